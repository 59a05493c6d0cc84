// Shared plumbing of the selfsup addon: tensor handles, argument parsing and the
// op registry. Every op is a small lambda registered by name; the dispatcher turns
// any C++ exception into a JavaScript Error naming the op and its inputs.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace selfsup {

/**
 * Tensors owned by JavaScript live in a per-thread slot table. JavaScript holds an
 * External whose value encodes the slot and its generation (never a pointer, and no
 * finalizer: creating one costs no GC bookkeeping). A disposed or stale handle is
 * recognised by its generation, so no call can reach freed memory.
 */
enum class HandleState { NotAHandle, Live, Disposed };

/** Looks `value` up; sets `*tensor` when live. */
HandleState lookupHandle(const Napi::Value& value, at::Tensor** tensor);
Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);
/** Frees the tensor behind `value`; false when it was already disposed. Throws ArgError for non-handles. */
bool disposeHandle(const Napi::Value& value);
/** Handles created on this thread and not yet disposed (leak checks). */
int64_t liveHandles();

/** Wraps a random generator for JavaScript (see Args::generator). */
Napi::Value newGenerator(Napi::Env env, at::Generator generator);

/** A wrong JavaScript argument (type, arity, disposed tensor): becomes a TypeError. */
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/**
 * Where creation ops put tensors when the call names no device (as torch.set_default_device), per
 * thread: the training thread may default to CUDA while the loader's worker threads stay on CPU.
 */
at::Device& defaultDevice();

at::ScalarType parseDtype(const std::string& name);
/** 'contiguous' (NCHW: row-major), 'channels_last' (NHWC strides of a 4-D tensor) or 'preserve'. */
at::MemoryFormat parseMemoryFormat(const std::string& name);
const char* dtypeName(at::ScalarType type);

/** Typed access to a call's arguments; every accessor names the argument on error. */
class Args {
 public:
  Args(const Napi::CallbackInfo& info) : info_(info), env(info.Env()) {}
  size_t size() const { return info_.Length(); }
  bool has(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined() && !info_[i].IsNull(); }
  bool isTensor(size_t i) const { return i < info_.Length() && lookupHandle(info_[i], nullptr) != HandleState::NotAHandle; }
  bool isNumber(size_t i) const { return i < info_.Length() && info_[i].IsNumber(); }
  bool isString(size_t i) const { return i < info_.Length() && info_[i].IsString(); }
  Napi::Value raw(size_t i) const { return info_[i]; }

  const at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  double number(size_t i) const;
  double numberOr(size_t i, double fallback) const { return has(i) ? number(i) : fallback; }
  c10::optional<double> optNumber(size_t i) const;
  int64_t integer(size_t i) const;
  int64_t integerOr(size_t i, int64_t fallback) const { return has(i) ? integer(i) : fallback; }
  c10::optional<int64_t> optInteger(size_t i) const;
  bool boolean(size_t i) const;
  bool booleanOr(size_t i, bool fallback) const { return has(i) ? boolean(i) : fallback; }
  /** A JS number as a Scalar: integral numbers stay integral so int tensors keep their dtype. */
  at::Scalar scalar(size_t i) const;
  at::Scalar scalarOr(size_t i, double fallback) const {
    if (has(i)) return scalar(i);
    // An integral default (alpha = 1) must stay integral, or int tensors refuse it.
    if (fallback == static_cast<double>(static_cast<int64_t>(fallback))) return at::Scalar(static_cast<int64_t>(fallback));
    return at::Scalar(fallback);
  }
  c10::optional<at::Scalar> optScalar(size_t i) const;
  /** An array of integers, or a single integer taken as a one-element list. */
  std::vector<int64_t> ints(size_t i) const;
  std::vector<double> doubles(size_t i) const;
  std::string string(size_t i) const;
  std::string stringOr(size_t i, const std::string& fallback) const { return has(i) ? string(i) : fallback; }
  at::ScalarType dtype(size_t i) const { return parseDtype(string(i)); }
  c10::optional<at::ScalarType> optDtype(size_t i) const;
  c10::optional<at::Generator> generator(size_t i) const;
  at::TensorOptions options(size_t dtypeIndex, size_t deviceIndex) const;

  /** Describes the inputs for an error message: float32[2,3], 0.5, [1,2], "mean", ... */
  std::string describe() const;

 private:
  [[noreturn]] void fail(size_t i, const std::string& expected) const;
  const Napi::CallbackInfo& info_;

 public:
  Napi::Env env;
};

// ---- conversions of op results to JavaScript ----
inline Napi::Value toJs(Napi::Env env, const at::Tensor& t) { return wrapTensor(env, t); }
inline Napi::Value toJs(Napi::Env env, const Napi::Value& v) { return v; }
inline Napi::Value toJs(Napi::Env env, double v) { return Napi::Number::New(env, v); }
inline Napi::Value toJs(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
inline Napi::Value toJs(Napi::Env env, bool v) { return Napi::Boolean::New(env, v); }
inline Napi::Value toJs(Napi::Env env, const std::string& v) { return Napi::String::New(env, v); }
Napi::Value toJs(Napi::Env env, const std::vector<at::Tensor>& ts);
Napi::Value toJs(Napi::Env env, const std::vector<int64_t>& v);
Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts);
Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts);

// ---- the op registry ----
// Every op declares its signature beside its body: "tensor, ints, dtype? -> tensor". The kinds:
// tensor, tensors, int, ints (an integer or an array of them), number, numbers, scalar (a number or
// a boolean), bool, string, dtype, device, generator, typedarray, handle (any tensor handle, live or
// disposed), unions with | ("tensor|scalar"), and ? for an argument that may be left out. Results:
// the same kinds, void, object, buffer, "tensor?" (null when absent) and "tensor?[]".
// native/signatures.cjs writes src/tensor/nativeOps.generated.ts (the typed JavaScript surface) from
// these strings, and test/nativeSignatures.test.ts checks each body reads its arguments as declared;
// the dispatcher refuses a call with more arguments and checks the kind of every result.
using OpFn = std::function<Napi::Value(Args&)>;
/** The JavaScript kinds a result can have (the result kinds of the signatures map onto them). */
enum class ResultKind { Handle, HandleOrNull, Array, Undefined, Boolean, Number, String, TypedArray, Object };
struct OpEntry {
  std::string name;
  std::string signature;
  /** arguments the signature declares: a call passing more is refused */
  size_t arity;
  /** what the signature says it returns: a body returning anything else is a bug the dispatcher reports */
  ResultKind result;
  OpFn fn;
};
std::vector<OpEntry>& opRegistry();
/** Number of arguments in a signature "a, b? -> r". */
size_t signatureArity(const char* signature);
/** The result kind of a signature; throws on one it does not know. */
ResultKind signatureResult(const char* signature);
bool isResultKind(const Napi::Value& value, ResultKind kind);

/** Registers `fn` (Args& -> any convertible result) under `name`, with its `signature`. */
template <class F>
void def(const char* name, const char* signature, F fn) {
  opRegistry().push_back({name, signature, signatureArity(signature), signatureResult(signature), [fn](Args& a) -> Napi::Value {
                            if constexpr (std::is_void_v<decltype(fn(a))>) {
                              fn(a);
                              return a.env.Undefined();
                            } else {
                              return toJs(a.env, fn(a));
                            }
                          }});
}

/** Runs `body` once at load time: each source file registers its ops with it. */
struct Registrar {
  explicit Registrar(void (*body)()) { body(); }
};
#define SELFSUP_REGISTER(unit)              \
  static void unit##_ops();                 \
  static ::selfsup::Registrar unit##_registrar(unit##_ops); \
  static void unit##_ops()

}  // namespace selfsup
