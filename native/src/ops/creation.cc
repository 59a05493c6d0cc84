// Tensor creation, conversion to and from JavaScript memory, metadata and random numbers.
#include <ATen/CPUGeneratorImpl.h>

#include <cstring>
#include <mutex>

#include "common.h"

namespace selfsup {
namespace {

at::ScalarType typedArrayDtype(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int32_array: return at::kInt;
    case napi_bigint64_array: return at::kLong;
    case napi_uint8_array: return at::kByte;
    case napi_int16_array: return at::kShort;
    case napi_int8_array: return at::kChar;
    default: throw ArgError("argument 0: typed array type not supported (use Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array, Int16Array or Int8Array)");
  }
}

int64_t checkedNumel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ArgError("shape has a negative size");
    n *= d;
  }
  return n;
}

/** CPU, contiguous tensor holding `t` as a dtype JavaScript has an array for. */
at::Tensor forJs(const at::Tensor& t) {
  at::Tensor out = t.detach();
  switch (out.scalar_type()) {
    case at::kHalf:
    case at::kBFloat16: out = out.to(at::kFloat); break;
    case at::kBool: out = out.to(at::kByte); break;
    default: break;
  }
  return out.to(at::kCPU).contiguous();
}

Napi::Value typedArrayOf(Napi::Env env, const at::Tensor& t) {
  size_t n = static_cast<size_t>(t.numel());
  size_t bytes = n * t.element_size();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buffer, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, buffer, 0);
    case at::kInt: return Napi::Int32Array::New(env, n, buffer, 0);
    case at::kLong: return Napi::TypedArrayOf<int64_t>::New(env, n, buffer, 0, napi_bigint64_array);
    case at::kByte: return Napi::Uint8Array::New(env, n, buffer, 0);
    case at::kShort: return Napi::Int16Array::New(env, n, buffer, 0);
    case at::kChar: return Napi::Int8Array::New(env, n, buffer, 0);
    default: throw ArgError(std::string("no typed array for dtype ") + dtypeName(t.scalar_type()));
  }
}

/** The bytes a typed array views, whether its buffer is an ArrayBuffer or a SharedArrayBuffer. */
std::pair<char*, size_t> viewedBytes(const Napi::TypedArray& array) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(array.Env(), napi_get_typedarray_info(array.Env(), array, &type, &length, &data, &buffer, &offset),
                       std::make_pair(static_cast<char*>(nullptr), size_t(0)));
  return {static_cast<char*>(data), array.ByteLength()};
}

/** Where a tensor made from JavaScript memory goes: the named device, else the thread's default. */
at::Tensor placed(Args& a, at::Tensor t, size_t dtypeIndex, size_t deviceIndex) {
  at::Device device = a.has(deviceIndex) ? a.options(dtypeIndex, deviceIndex).device() : defaultDevice();
  return device.is_cpu() ? t : t.to(device);
}

/**
 * Draws with `gen` on its own device, then moves the result (a seeded CPU generator gives the same
 * numbers whichever device the tensor lives on, as model initialisation needs).
 */
template <class F>
at::Tensor drawn(const c10::optional<at::Generator>& gen, at::TensorOptions opts, F draw) {
  if (!gen || gen->device().type() == opts.device().type()) return draw(opts);
  return draw(opts.device(gen->device())).to(opts.device());
}

/** A draw from `input` (probabilities, rates) with `gen` on the generator's device when they differ, the result
 * moved back to `input`'s device: a seeded CPU generator gives the same masks on the CPU and on cuda. */
template <class F>
at::Tensor drawnFrom(const at::Tensor& input, const c10::optional<at::Generator>& gen, F draw) {
  if (!gen || gen->device().type() == input.device().type()) return draw(input);
  return draw(input.to(gen->device())).to(input.device());
}

/** An in-place draw into `t` with `gen`, through a copy on the generator's device when they differ. */
template <class F>
void drawnInto(at::Tensor t, const c10::optional<at::Generator>& gen, F draw) {
  if (!gen || gen->device().type() == t.device().type()) return draw(t);
  c10::NoGradGuard noGrad;
  at::Tensor local = at::empty(t.sizes(), t.options().device(gen->device()));
  draw(local);
  t.copy_(local);
}

}  // namespace

SELFSUP_REGISTER(creation) {
  // setDefaultDevice(name): this thread's device for creation ops that name none ('cpu', 'cuda', 'cuda:1').
  def("setDefaultDevice", "string -> void", [](Args& a) {
    at::Device device(at::kCPU);
    try {
      device = at::Device(a.string(0));
    } catch (const c10::Error&) {
      throw ArgError("argument 0: unknown device '" + a.string(0) + "' (expected cpu, cuda or cuda:N)");
    }
    if (device.is_cuda()) {
      TORCH_CHECK(at::hasCUDA(), "device '", a.string(0), "': this libtorch has no CUDA (build against a CUDA libtorch with LIBTORCH)");
    }
    defaultDevice() = device;
  });
  def("defaultDevice", "-> string", [](Args&) { return defaultDevice().str(); });
  // fromTypedArray(array, shape, dtype?, device?): one copy into libtorch memory.
  def("fromTypedArray", "typedarray, ints, dtype?, device? -> tensor", [](Args& a) {
    Napi::Value v = a.raw(0);
    if (!v.IsTypedArray()) throw ArgError("argument 0: expected a typed array");
    auto array = v.As<Napi::TypedArray>();
    at::ScalarType source = typedArrayDtype(array.TypedArrayType());
    std::vector<int64_t> shape = a.ints(1);
    int64_t n = checkedNumel(shape);
    if (n != static_cast<int64_t>(array.ElementLength()))
      throw ArgError("argument 0: " + std::to_string(array.ElementLength()) + " elements do not fill shape of " + std::to_string(n) + " elements");
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(source));
    if (n) std::memcpy(t.data_ptr(), viewedBytes(array).first, array.ByteLength());
    if (a.has(2) && a.dtype(2) != source) t = t.to(a.dtype(2));
    return placed(a, t, 2, 3);
  });
  def("toTypedArray", "tensor -> typedarray", [](Args& a) { return typedArrayOf(a.env, forJs(a.tensor(0))); });
  // Raw bytes in native byte order (any dtype), for safetensors and checkpoints.
  def("toBytes", "tensor -> buffer", [](Args& a) {
    at::Tensor t = a.tensor(0).detach().to(at::kCPU).contiguous();
    size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    return Napi::Value(Napi::Buffer<char>::Copy(a.env, static_cast<const char*>(t.data_ptr()), bytes));
  });
  def("fromBytes", "typedarray, ints, dtype?, device? -> tensor", [](Args& a) {
    Napi::Value v = a.raw(0);
    if (!v.IsTypedArray()) throw ArgError("argument 0: expected a Buffer or Uint8Array");
    auto array = v.As<Napi::TypedArray>();
    std::vector<int64_t> shape = a.ints(1);
    at::ScalarType dtype = a.dtype(2);
    int64_t n = checkedNumel(shape);
    size_t expected = static_cast<size_t>(n) * c10::elementSize(dtype);
    if (array.ByteLength() != expected)
      throw ArgError("argument 0: " + std::to_string(array.ByteLength()) + " bytes, expected " + std::to_string(expected) + " for " + dtypeName(dtype) + " of " + std::to_string(n) + " elements");
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (expected) std::memcpy(t.data_ptr(), viewedBytes(array).first, expected);
    return placed(a, t, 2, 3);
  });
  // copyToTypedArray(t, array): writes t's bytes (native order) into an existing typed array of exactly
  // that many bytes, e.g. one on a SharedArrayBuffer that another thread reads.
  def("copyToTypedArray", "tensor, typedarray -> void", [](Args& a) {
    at::Tensor t = a.tensor(0).detach().to(at::kCPU).contiguous();
    Napi::Value v = a.raw(1);
    if (!v.IsTypedArray()) throw ArgError("argument 1: expected a typed array");
    auto [data, length] = viewedBytes(v.As<Napi::TypedArray>());
    size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (length != bytes) throw ArgError("argument 1: " + std::to_string(length) + " bytes, expected " + std::to_string(bytes));
    if (bytes) std::memcpy(data, t.data_ptr(), bytes);
  });
  def("item", "tensor -> number", [](Args& a) {
    const at::Tensor& t = a.tensor(0);
    TORCH_CHECK(t.numel() == 1, "item() needs a tensor with one element, got ", t.numel());
    return t.item<double>();
  });

  // ---- metadata ----
  def("shape", "tensor -> ints", [](Args& a) { return a.tensor(0).sizes().vec(); });
  def("strides", "tensor -> ints", [](Args& a) { return a.tensor(0).strides().vec(); });
  def("dtype", "tensor -> string", [](Args& a) { return std::string(dtypeName(a.tensor(0).scalar_type())); });
  def("device", "tensor -> string", [](Args& a) { return a.tensor(0).device().str(); });
  def("numel", "tensor -> int", [](Args& a) { return a.tensor(0).numel(); });
  def("isContiguous", "tensor, string? -> bool", [](Args& a) { return a.tensor(0).is_contiguous(parseMemoryFormat(a.stringOr(1, "contiguous"))); });

  // ---- constructors: (shape, dtype?, device?) ----
  def("zeros", "ints, dtype?, device? -> tensor", [](Args& a) { return at::zeros(a.ints(0), a.options(1, 2)); });
  def("ones", "ints, dtype?, device? -> tensor", [](Args& a) { return at::ones(a.ints(0), a.options(1, 2)); });
  def("empty", "ints, dtype?, device? -> tensor", [](Args& a) { return at::empty(a.ints(0), a.options(1, 2)); });
  def("full", "ints, scalar, dtype?, device? -> tensor", [](Args& a) { return at::full(a.ints(0), a.scalar(1), a.options(2, 3)); });
  def("scalarTensor", "scalar, dtype?, device? -> tensor", [](Args& a) { return at::scalar_tensor(a.scalar(0), a.options(1, 2)); });
  def("arange", "scalar, scalar, scalar, dtype?, device? -> tensor", [](Args& a) {
    at::TensorOptions opts = a.options(3, 4);
    if (!a.has(3)) opts = opts.dtype(a.scalar(0).isIntegral(false) && a.scalar(1).isIntegral(false) && a.scalar(2).isIntegral(false) ? at::kLong : at::kFloat);
    return at::arange(a.scalar(0), a.scalar(1), a.scalar(2), opts);
  });
  def("linspace", "scalar, scalar, int, dtype?, device? -> tensor", [](Args& a) { return at::linspace(a.scalar(0), a.scalar(1), a.integer(2), a.options(3, 4)); });
  def("eye", "int, int?, dtype?, device? -> tensor", [](Args& a) { return at::eye(a.integer(0), a.integerOr(1, a.integer(0)), a.options(2, 3)); });
  def("zerosLike", "tensor -> tensor", [](Args& a) { return at::zeros_like(a.tensor(0)); });
  def("onesLike", "tensor -> tensor", [](Args& a) { return at::ones_like(a.tensor(0)); });
  def("fullLike", "tensor, scalar -> tensor", [](Args& a) { return at::full_like(a.tensor(0), a.scalar(1)); });
  def("emptyLike", "tensor -> tensor", [](Args& a) { return at::empty_like(a.tensor(0)); });

  // ---- random: (..., generator?) with the global generator when none is given ----
  def("rand", "ints, dtype?, device?, generator? -> tensor", [](Args& a) {
    auto gen = a.generator(3);
    return drawn(gen, a.options(1, 2), [&](at::TensorOptions o) { return at::rand(a.ints(0), gen, o); });
  });
  def("randn", "ints, dtype?, device?, generator? -> tensor", [](Args& a) {
    auto gen = a.generator(3);
    return drawn(gen, a.options(1, 2), [&](at::TensorOptions o) { return at::randn(a.ints(0), gen, o); });
  });
  def("poisson", "tensor, generator? -> tensor", [](Args& a) {
    auto gen = a.generator(1);
    return drawnFrom(a.tensor(0), gen, [&](const at::Tensor& rates) { return at::poisson(rates, gen); });
  });
  def("randint", "int, int, ints, dtype?, device?, generator? -> tensor", [](Args& a) {
    at::TensorOptions opts = a.options(3, 4);
    if (!a.has(3)) opts = opts.dtype(at::kLong);
    auto gen = a.generator(5);
    return drawn(gen, opts, [&](at::TensorOptions o) { return at::randint(a.integer(0), a.integer(1), a.ints(2), gen, o); });
  });
  def("randperm", "int, dtype?, device?, generator? -> tensor", [](Args& a) {
    at::TensorOptions opts = a.options(1, 2);
    if (!a.has(1)) opts = opts.dtype(at::kLong);
    auto gen = a.generator(3);
    return drawn(gen, opts, [&](at::TensorOptions o) { return at::randperm(a.integer(0), gen, o); });
  });
  def("bernoulli", "tensor, number?, generator? -> tensor", [](Args& a) {
    auto gen = a.generator(2);
    return drawnFrom(a.tensor(0), gen, [&](const at::Tensor& t) {
      return a.isNumber(1) ? at::bernoulli(t, a.number(1), gen) : at::bernoulli(t, gen);
    });
  });
  def("multinomial", "tensor, int, bool?, generator? -> tensor", [](Args& a) {
    auto gen = a.generator(3);
    return drawnFrom(a.tensor(0), gen, [&](const at::Tensor& weights) {
      return at::multinomial(weights, a.integer(1), a.booleanOr(2, false), gen);
    });
  });
  // rngState(generator?) -> uint8 tensor; setRngState(state, generator?): the global CPU
  // generator when none is given (checkpoints restore it for exact resumption).
  def("rngState", "generator? -> tensor", [](Args& a) {
    at::Generator gen = a.has(0) ? *a.generator(0) : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
  });
  def("setRngState", "tensor, generator? -> void", [](Args& a) {
    at::Generator gen = a.has(1) ? *a.generator(1) : at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(a.tensor(0));
  });
  // In-place initialisers (used under noGrad by nn.init).
  def("normal_", "tensor, number?, number?, generator? -> void", [](Args& a) {
    auto gen = a.generator(3);
    drawnInto(a.tensor(0), gen, [&](at::Tensor t) { t.normal_(a.numberOr(1, 0.0), a.numberOr(2, 1.0), gen); });
  });
  def("uniform_", "tensor, number?, number?, generator? -> void", [](Args& a) {
    auto gen = a.generator(3);
    drawnInto(a.tensor(0), gen, [&](at::Tensor t) { t.uniform_(a.numberOr(1, 0.0), a.numberOr(2, 1.0), gen); });
  });
  // truncNormal_(t, mean, std, a, b): inverse-CDF sampling as torch.nn.init.trunc_normal_.
  def("truncNormal_", "tensor, number?, number?, number?, number?, generator? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    double mean = a.numberOr(1, 0.0), std = a.numberOr(2, 1.0), lo = a.numberOr(3, -2.0), hi = a.numberOr(4, 2.0);
    TORCH_CHECK(std > 0 && lo < hi, "truncNormal_ needs std > 0 and a < b");
    auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
    double l = cdf((lo - mean) / std), u = cdf((hi - mean) / std);
    c10::NoGradGuard guard;
    auto gen = a.generator(5);
    drawnInto(t, gen, [&](at::Tensor x) { x.uniform_(2 * l - 1, 2 * u - 1, gen); });
    t.erfinv_();
    t.mul_(std * std::sqrt(2.0));
    t.add_(mean);
    t.clamp_(lo, hi);
  });
}

}  // namespace selfsup
