// Entry point of the selfsup addon: installs the caching allocator, sets the thread
// count, and exports every registered op behind one error-converting dispatcher.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <sched.h>

#include <cstdlib>

#include "runtime/allocator.h"
#include "common.h"

namespace selfsup {
namespace {

std::string firstLines(const std::string& message) {
  // libtorch messages may carry a C++ backtrace after the text: keep the text.
  std::string out = message;
  size_t cut = out.find("\nException raised from");
  if (cut != std::string::npos) out = out.substr(0, cut);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Napi::Value dispatch(const Napi::CallbackInfo& info) {
  auto* op = static_cast<OpEntry*>(info.Data());
  Args args(info);
  auto fail = [&](const std::string& kind, const std::string& message) -> Napi::Error {
    std::string text = op->name + "(" + args.describe() + "): " + message;
    Napi::Error error = kind == "TypeError" ? Napi::TypeError::New(info.Env(), text) : Napi::Error::New(info.Env(), text);
    error.Set("op", Napi::String::New(info.Env(), op->name));
    return error;
  };
  try {
    // More arguments than the signature declares are a mistake of the caller (trailing undefined is fine).
    for (size_t i = op->arity; i < info.Length(); i++) {
      if (!info[i].IsUndefined()) throw ArgError("expected at most " + std::to_string(op->arity) + " arguments (" + op->signature + "), got " + std::to_string(i + 1));
    }
    Napi::Value result = op->fn(args);
    if (!isResultKind(result, op->result)) throw std::logic_error("returned a result of another kind than its signature (" + op->signature + ") says");
    return result;
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgError& e) {
    throw fail("TypeError", e.what());
  } catch (const c10::Error& e) {
    throw fail("Error", firstLines(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw fail("Error", e.what());
  } catch (...) {
    throw fail("Error", "unknown C++ exception");
  }
}

int defaultThreads() {
  for (const char* name : {"SELFSUP_NUM_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* env = std::getenv(name)) {
      int n = std::atoi(env);
      if (n > 0) return n;
    }
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

}  // namespace

SELFSUP_REGISTER(engine) {
  // dispose(t) -> whether it was live (disposing twice is harmless).
  def("dispose", "handle -> bool", [](Args& a) { return disposeHandle(a.raw(0)); });
  def("isDisposed", "handle -> bool", [](Args& a) {
    HandleState state = lookupHandle(a.raw(0), nullptr);
    if (state == HandleState::NotAHandle) throw ArgError("argument 0: expected a Tensor");
    return state == HandleState::Disposed;
  });
  def("liveTensors", "-> int", [](Args&) { return liveHandles(); });
  def("setNumThreads", "int -> void", [](Args& a) {
    int64_t n = a.integer(0);
    if (n < 1) throw ArgError("argument 0: expected a thread count >= 1");
    at::set_num_threads(static_cast<int>(n));
  });
  def("getNumThreads", "-> int", [](Args&) { return static_cast<int64_t>(at::get_num_threads()); });
  def("manualSeed", "int -> void", [](Args& a) { at::manual_seed(static_cast<uint64_t>(a.integer(0))); });
  def("newGenerator", "int -> generator", [](Args& a) {
    auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(a.integer(0)));
    return newGenerator(a.env, gen);
  });
  def("setGradEnabled", "bool -> bool", [](Args& a) {
    bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(a.boolean(0));
    return previous;
  });
  def("isGradEnabled", "-> bool", [](Args&) { return at::GradMode::is_enabled(); });
  // setAutocast(device "cpu"|"cuda", enabled, dtype = "bfloat16") -> whether it was enabled: ops that autocast
  // lists run in that dtype on that device (torch.autocast(device)); the dtype is set either way, so leaving a
  // region restores the outer one's, as torch.autocast's exit does. Leaving a region clears autocast's weight cache.
  def("setAutocast", "string, bool, dtype? -> bool", [](Args& a) {
    std::string device = a.string(0);
    if (device != "cpu" && device != "cuda") throw ArgError("argument 0: expected 'cpu' or 'cuda', got '" + device + "'");
    bool cuda = device == "cuda";
    bool enable = a.boolean(1);
    at::ScalarType dtype = a.has(2) ? a.dtype(2) : at::kBFloat16;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::DeviceType type = cuda ? at::kCUDA : at::kCPU;
    bool previous = at::autocast::is_autocast_enabled(type);
    at::autocast::set_autocast_dtype(type, dtype);
    at::autocast::set_autocast_enabled(type, enable);
#else
    bool previous = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    if (cuda) {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(enable);
    } else {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(enable);
    }
#endif
    if (!enable) at::autocast::clear_cache();
    return previous;
  });
  // autocastDtype(device "cpu"|"cuda") -> the dtype autocast regions on that device use (to restore an outer region's).
  def("autocastDtype", "string -> string", [](Args& a) -> std::string {
    std::string device = a.string(0);
    if (device != "cpu" && device != "cuda") throw ArgError("argument 0: expected 'cpu' or 'cuda', got '" + device + "'");
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    return dtypeName(at::autocast::get_autocast_dtype(device == "cuda" ? at::kCUDA : at::kCPU));
#else
    return dtypeName(device == "cuda" ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype());
#endif
  });
  def("cudaIsAvailable", "-> bool", [](Args&) { return torch::cuda::is_available(); });
  def("cudaDeviceCount", "-> int", [](Args&) { return static_cast<int64_t>(torch::cuda::device_count()); });
  def("allocatorStats", "-> object", [](Args& a) {
    AllocatorStats s = allocatorStats();
    Napi::Object o = Napi::Object::New(a.env);
    o.Set("caching", cachingAllocatorInstalled());
    o.Set("liveBytes", static_cast<double>(s.liveBytes));
    o.Set("peakLiveBytes", static_cast<double>(s.peakLiveBytes));
    o.Set("cachedBytes", static_cast<double>(s.cachedBytes));
    o.Set("hits", static_cast<double>(s.hits));
    o.Set("misses", static_cast<double>(s.misses));
    return Napi::Value(o);
  });
  def("emptyCache", "-> void", [](Args&) { emptyAllocatorCache(); });
  // opSignatures() -> { name: signature } of every op, as registered (test/nativeSignatures.test.ts).
  def("opSignatures", "-> object", [](Args& a) {
    Napi::Object o = Napi::Object::New(a.env);
    for (const OpEntry& op : opRegistry()) o.Set(op.name, op.signature);
    return Napi::Value(o);
  });
  def("info", "-> object", [](Args& a) {
    Napi::Object o = Napi::Object::New(a.env);
    o.Set("torchVersion", TORCH_VERSION);
    o.Set("numThreads", at::get_num_threads());
    o.Set("cuda", torch::cuda::is_available());
    o.Set("mkldnn", at::hasMKLDNN());
    o.Set("openmp", at::hasOpenMP());
    o.Set("cachingAllocator", cachingAllocatorInstalled());
    o.Set("parallelInfo", at::get_parallel_info());
    return Napi::Value(o);
  });
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  installCachingAllocator();
  at::set_num_threads(defaultThreads());
  for (OpEntry& op : opRegistry()) {
    exports.Set(op.name, Napi::Function::New(env, dispatch, op.name, &op));
  }
  return exports;
}

NODE_API_MODULE(selfsup, Init)

}  // namespace selfsup
