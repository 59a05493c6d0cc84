// c10d, PyTorch's distributed engine: one process group per process (as torch.distributed's
// default group), made from a TCP store (MASTER_ADDR/MASTER_PORT, rank 0 serves it) or a file
// store, with Gloo on CPU (and NCCL where the linked libtorch has CUDA and c10d NCCL).
// Collectives: all-reduce, all-gather, broadcast, barrier; two differentiable ones (all-gather
// whose backward all-reduces the gradient and keeps this rank's slice, as SimCLR's GatherLayer;
// a summing all-reduce whose backward is the same all-reduce, for SyncBatchNorm); and the
// data-parallel gradient all-reduce in buckets (averaged over the ranks).
#include <torch/csrc/autograd/custom_function.h>

#include <chrono>
#include <memory>

#include "common.h"

// c10d itself (stores, collectives) builds with either backend: Gloo needs gloo's headers (Debian's
// libgloo-dev; PyTorch's wheels ship none), NCCL a libtorch with CUDA and nccl.h.
#if defined(USE_C10D_GLOO) || defined(SELFSUP_WITH_NCCL)
#define SELFSUP_WITH_C10D 1
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef SELFSUP_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace selfsup {
namespace {

/** The process-group backends this build has, comma-separated ("gloo,nccl"; empty without c10d). */
std::string backends() {
  std::string names;
#ifdef USE_C10D_GLOO
  names += "gloo";
#endif
#ifdef SELFSUP_WITH_NCCL
  names += names.empty() ? "nccl" : ",nccl";
#endif
  return names;
}

#ifdef SELFSUP_WITH_C10D

using Work = c10::intrusive_ptr<c10d::Work>;

/** The process group's collectives, whatever class serves them (ProcessGroupGloo / NCCL). */
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  std::function<Work(std::vector<at::Tensor>&, c10d::ReduceOp)> allreduce;
  std::function<Work(std::vector<std::vector<at::Tensor>>&, std::vector<at::Tensor>&)> allgather;
  std::function<Work(std::vector<at::Tensor>&, int64_t)> broadcast;
  std::function<Work()> barrier;
  c10::intrusive_ptr<c10::intrusive_ptr_target> keepAlive;
  std::string backend;
  int rank = 0;
  int size = 1;
};

std::unique_ptr<Group>& group() {
  static std::unique_ptr<Group> g;
  return g;
}

Group& requireGroup(const char* what) {
  if (!group()) throw std::runtime_error(std::string(what) + ": no process group (call initProcessGroup first)");
  return *group();
}

template <class PG>
void bindCollectives(Group& g, c10::intrusive_ptr<PG> pg) {
  g.allreduce = [pg](std::vector<at::Tensor>& ts, c10d::ReduceOp op) {
    c10d::AllreduceOptions o;
    o.reduceOp = op;
    return pg->allreduce(ts, o);
  };
  g.allgather = [pg](std::vector<std::vector<at::Tensor>>& out, std::vector<at::Tensor>& in) { return pg->allgather(out, in); };
  g.broadcast = [pg](std::vector<at::Tensor>& ts, int64_t root) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    return pg->broadcast(ts, o);
  };
  g.barrier = [pg]() { return pg->barrier(); };
  g.keepAlive = pg;
}

c10d::ReduceOp parseReduceOp(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  throw ArgError("argument 1: expected a reduction 'sum', 'max', 'min' or 'product', got '" + name + "'");
}

/**
 * `t` as a collective can send it: contiguous, and float32 where Gloo has no kernel for the type
 * (bfloat16 and float16, which bfloat16 autocast produces). Itself when it already is.
 */
at::Tensor onTheWire(const Group& g, const at::Tensor& t) {
  bool reduced = t.scalar_type() == at::kBFloat16 || t.scalar_type() == at::kHalf;
  if (g.backend == "gloo" && reduced) return t.to(at::kFloat).contiguous();
  return t.is_contiguous() ? t : t.contiguous();
}

/** All-reduces `t` in place (through a contiguous, or float32, copy when it must). */
void allReduceInPlace(Group& g, at::Tensor& t, c10d::ReduceOp op) {
  c10::NoGradGuard noGrad;
  at::Tensor buffer = onTheWire(g, t);
  std::vector<at::Tensor> ts{buffer};
  g.allreduce(ts, op)->wait();
  if (!buffer.is_same(t)) t.copy_(buffer);
}

/** Every rank's `x` stacked along dim 0: [size * n, ...]; all ranks must give the same shape. */
at::Tensor gatherCat(Group& g, const at::Tensor& x) {
  c10::NoGradGuard noGrad;
  at::Tensor input = onTheWire(g, x);
  // Shapes first: Gloo would otherwise read past a smaller tensor.
  std::vector<int64_t> shape = x.sizes().vec();
  at::Tensor mine = at::tensor(shape, at::kLong).to(x.device());
  std::vector<at::Tensor> shapeIn{mine};
  std::vector<std::vector<at::Tensor>> shapeOut(1);
  for (int r = 0; r < g.size; ++r) shapeOut[0].push_back(at::empty_like(mine));
  g.allgather(shapeOut, shapeIn)->wait();
  for (int r = 0; r < g.size; ++r) {
    if (!at::equal(shapeOut[0][r], mine)) {
      std::ostringstream s;
      s << "allGather: rank " << r << " gave a tensor of shape " << shapeOut[0][r].cpu() << " where rank " << g.rank
        << " has " << x.sizes() << ": every rank must gather the same shape";
      throw std::runtime_error(s.str());
    }
  }
  std::vector<at::Tensor> in{input};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.size; ++r) out[0].push_back(at::empty_like(input));
  g.allgather(out, in)->wait();
  return at::cat(out[0], 0).to(x.scalar_type());
}

/** all-gather with a gradient: backward sums every rank's gradient of the whole and keeps this rank's rows. */
struct AllGatherWithGrad : public torch::autograd::Function<AllGatherWithGrad> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x) {
    ctx->saved_data["rows"] = x.size(0);
    return gatherCat(requireGroup("allGatherWithGrad"), x);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    Group& g = requireGroup("allGatherWithGrad backward");
    at::Tensor total = grads[0].contiguous().clone();
    allReduceInPlace(g, total, c10d::ReduceOp::SUM);
    int64_t rows = ctx->saved_data["rows"].toInt();
    return {total.narrow(0, g.rank * rows, rows)};
  }
};

/** The sum over ranks with a gradient: d(sum)/dx_r of the total loss is the sum over ranks of the gradients. */
struct AllReduceSumWithGrad : public torch::autograd::Function<AllReduceSumWithGrad> {
  static at::Tensor forward(torch::autograd::AutogradContext*, at::Tensor x) {
    at::Tensor out = x.contiguous().clone();
    allReduceInPlace(requireGroup("allReduceSumWithGrad"), out, c10d::ReduceOp::SUM);
    return out;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*, torch::autograd::tensor_list grads) {
    at::Tensor g = grads[0].contiguous().clone();
    allReduceInPlace(requireGroup("allReduceSumWithGrad backward"), g, c10d::ReduceOp::SUM);
    return {g};
  }
};

/** Tensors cut into runs of one dtype and device of at most `bucketBytes` (a tensor larger than that is a bucket alone). */
std::vector<std::vector<at::Tensor>> buckets(const std::vector<at::Tensor>& ts, int64_t bucketBytes) {
  std::vector<std::vector<at::Tensor>> out;
  int64_t bytes = 0;
  for (const at::Tensor& t : ts) {
    int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    bool fits = !out.empty() && bytes + size <= bucketBytes && out.back().front().scalar_type() == t.scalar_type() &&
                out.back().front().device() == t.device();
    if (!fits) {
      out.emplace_back();
      bytes = 0;
    }
    out.back().push_back(t);
    bytes += size;
  }
  return out;
}

/** Flattens each bucket, runs `collective` on all of them (in flight together), then copies the results back. */
void overBuckets(const std::vector<at::Tensor>& ts, int64_t bucketBytes, const std::function<Work(std::vector<at::Tensor>&)>& collective,
                 double scale) {
  c10::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> parts = buckets(ts, bucketBytes);
  std::vector<at::Tensor> flats;
  std::vector<Work> works;
  for (auto& part : parts) {
    std::vector<at::Tensor> pieces;
    for (auto& t : part) pieces.push_back(t.reshape({-1}));
    flats.push_back(at::cat(pieces));
    std::vector<at::Tensor> one{flats.back()};
    works.push_back(collective(one));
  }
  for (size_t b = 0; b < parts.size(); ++b) {
    works[b]->wait();
    if (scale != 1.0) flats[b].mul_(scale);
    int64_t offset = 0;
    for (auto& t : parts[b]) {
      t.copy_(flats[b].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

#ifdef USE_C10D_GLOO
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& host) {
  if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME")) return c10d::ProcessGroupGloo::createDeviceForInterface(iface);
  // One machine: the loopback device, which needs no resolvable host name.
  if (host == "127.0.0.1" || host == "localhost" || host == "::1") return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif  // USE_C10D_GLOO

#endif  // SELFSUP_WITH_C10D

}  // namespace

SELFSUP_REGISTER(distributed) {
  def("distBackends", "-> string", [](Args&) { return backends(); });
#ifdef SELFSUP_WITH_C10D
  // initProcessGroup(backend 'gloo'|'nccl', rank, worldSize, storeKind 'tcp'|'file', address, port, timeoutMs)
  //   tcp: rank 0 serves the store at address:port; file: `address` is the store's file (shared by the ranks).
  def("distInit", "string, int, int, string, string, int, int -> void", [](Args& a) {
    if (group()) throw std::runtime_error("initProcessGroup: this process already has a process group (destroy it first)");
    std::string backend = a.string(0);
    int64_t rank = a.integer(1), size = a.integer(2);
    if (size < 1 || rank < 0 || rank >= size) throw ArgError("rank " + std::to_string(rank) + " is not in [0, " + std::to_string(size) + ")");
    std::string kind = a.string(3), address = a.string(4);
    std::chrono::milliseconds timeout(a.integer(6));
    auto g = std::make_unique<Group>();
    if (kind == "tcp") {
      c10d::TCPStoreOptions o;
      o.port = static_cast<std::uint16_t>(a.integer(5));
      o.isServer = rank == 0;
      o.numWorkers = static_cast<std::size_t>(size);
      o.waitWorkers = true;
      o.timeout = timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(address, o);
    } else if (kind == "file") {
      g->store = c10::make_intrusive<c10d::FileStore>(address, static_cast<int>(size));
      g->store->setTimeout(timeout);
    } else {
      throw ArgError("argument 3: expected a store 'tcp' or 'file', got '" + kind + "'");
    }
    if (backend == "gloo") {
#ifdef USE_C10D_GLOO
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(glooDevice(kind == "tcp" ? address : "127.0.0.1"));
      options->threads = 2;
      bindCollectives(*g, c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, static_cast<int>(rank), static_cast<int>(size), options));
#else
      throw std::runtime_error("initProcessGroup: backend 'gloo' needs gloo's headers when the addon is built (libgloo-dev); this build has " + backends());
#endif
    } else if (backend == "nccl") {
#ifdef SELFSUP_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      bindCollectives(*g, c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, static_cast<int>(rank), static_cast<int>(size), options));
#else
      throw std::runtime_error("initProcessGroup: backend 'nccl' needs a libtorch with CUDA and c10d NCCL (LIBTORCH); this build has " + backends());
#endif
    } else {
      throw ArgError("argument 0: expected a backend 'gloo' or 'nccl', got '" + backend + "'");
    }
    g->backend = backend;
    g->rank = static_cast<int>(rank);
    g->size = static_cast<int>(size);
    group() = std::move(g);
  });
  def("distDestroy", "-> void", [](Args&) { group().reset(); });
  // distAllReduce(t, op): in place
  def("distAllReduce", "tensor, string? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    allReduceInPlace(requireGroup("allReduce"), t, parseReduceOp(a.stringOr(1, "sum")));
  });
  def("distAllGather", "tensor -> tensor", [](Args& a) { return gatherCat(requireGroup("allGather"), a.tensor(0)); });
  def("distAllGatherWithGrad", "tensor -> tensor", [](Args& a) { return AllGatherWithGrad::apply(a.tensor(0)); });
  def("distAllReduceSumWithGrad", "tensor -> tensor", [](Args& a) { return AllReduceSumWithGrad::apply(a.tensor(0)); });
  // distBroadcast(tensors[], root, bucketBytes): in place, in buckets
  def("distBroadcast", "tensors, int, int? -> void", [](Args& a) {
    Group& g = requireGroup("broadcast");
    int64_t root = a.integer(1);
    if (root < 0 || root >= g.size) throw ArgError("argument 1: root rank " + std::to_string(root) + " is not in [0, " + std::to_string(g.size) + ")");
    overBuckets(a.tensors(0), a.integerOr(2, 25 << 20), [&](std::vector<at::Tensor>& one) { return g.broadcast(one, root); }, 1.0);
  });
  // distAverageGradients(params[], bucketBytes): every parameter's gradient averaged over the ranks,
  // in buckets that are all in flight at once; a parameter without a gradient counts as zeros.
  def("distAverageGradients", "tensors, int? -> void", [](Args& a) {
    Group& g = requireGroup("averageGradients");
    std::vector<at::Tensor> grads;
    for (at::Tensor p : a.tensors(0)) {
      if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
      grads.push_back(p.grad());
    }
    overBuckets(grads, a.integerOr(1, 25 << 20), [&](std::vector<at::Tensor>& one) { return g.allreduce(one, c10d::ReduceOp::SUM); },
                1.0 / g.size);
  });
  def("distBarrier", "-> void", [](Args&) { requireGroup("barrier").barrier()->wait(); });
#endif
}

}  // namespace selfsup
