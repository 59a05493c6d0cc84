// Tensor handles and argument parsing.
#include "common.h"

#include <cmath>
#include <deque>
#include <unordered_set>
#include <sstream>

namespace selfsup {

std::vector<OpEntry>& opRegistry() {
  static std::vector<OpEntry> ops;
  return ops;
}

ResultKind signatureResult(const char* signature) {
  std::string s(signature);
  size_t arrow = s.find("->");
  size_t start = arrow == std::string::npos ? std::string::npos : s.find_first_not_of(' ', arrow + 2);
  std::string kind = start == std::string::npos ? "" : s.substr(start, s.find_last_not_of(' ') + 1 - start);
  if (kind == "tensor" || kind == "generator") return ResultKind::Handle;
  if (kind == "tensor?") return ResultKind::HandleOrNull;
  if (kind == "tensors" || kind == "tensor?[]" || kind == "ints") return ResultKind::Array;
  if (kind == "void") return ResultKind::Undefined;
  if (kind == "bool") return ResultKind::Boolean;
  if (kind == "int" || kind == "number") return ResultKind::Number;
  if (kind == "string") return ResultKind::String;
  if (kind == "buffer" || kind == "typedarray") return ResultKind::TypedArray;
  if (kind == "object") return ResultKind::Object;
  throw std::logic_error(std::string("op signature \"") + signature + "\": unknown result kind '" + kind + "'");
}

bool isResultKind(const Napi::Value& v, ResultKind kind) {
  switch (kind) {
    case ResultKind::Handle: return v.IsExternal();
    case ResultKind::HandleOrNull: return v.IsExternal() || v.IsNull();
    case ResultKind::Array: return v.IsArray();
    case ResultKind::Undefined: return v.IsUndefined();
    case ResultKind::Boolean: return v.IsBoolean();
    case ResultKind::Number: return v.IsNumber();
    case ResultKind::String: return v.IsString();
    case ResultKind::TypedArray: return v.IsTypedArray();
    case ResultKind::Object: return v.IsObject();
  }
  return false;
}

size_t signatureArity(const char* signature) {
  std::string s(signature);
  std::string args = s.substr(0, s.find("->"));
  if (args.find_first_not_of(' ') == std::string::npos) return 0;
  size_t n = 1;
  for (char c : args) n += c == ',';
  return n;
}

namespace {

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  bool live = false;
};

// A deque keeps references to slots valid while new slots are added.
struct SlotTable {
  std::deque<Slot> slots;
  std::vector<uint32_t> free;
  int64_t live = 0;
};

thread_local SlotTable table;

// handle value = tag | generation << 32 | index; the tag (bit 63) never appears in a user-space pointer.
constexpr uint64_t kTag = uint64_t(1) << 63;
constexpr uint64_t kGenerationMask = 0x7fffffffULL;

void* encode(uint32_t index, uint32_t generation) {
  return reinterpret_cast<void*>(kTag | (uint64_t(generation & kGenerationMask) << 32) | index);
}

/** The slot `value` names (live or not), or nullptr when it is not one of our handles. */
Slot* slotOf(const Napi::Value& value, uint32_t* generation, uint32_t* indexOut = nullptr) {
  if (!value.IsExternal()) return nullptr;
  auto bits = reinterpret_cast<uint64_t>(value.As<Napi::External<void>>().Data());
  if ((bits & kTag) == 0) return nullptr;
  uint32_t index = static_cast<uint32_t>(bits & 0xffffffffULL);
  if (index >= table.slots.size()) return nullptr;
  *generation = static_cast<uint32_t>((bits >> 32) & kGenerationMask);
  if (indexOut != nullptr) *indexOut = index;
  return &table.slots[index];
}

}  // namespace

HandleState lookupHandle(const Napi::Value& value, at::Tensor** tensor) {
  uint32_t generation = 0;
  Slot* slot = slotOf(value, &generation);
  if (slot == nullptr) return HandleState::NotAHandle;
  if (!slot->live || (slot->generation & kGenerationMask) != generation) return HandleState::Disposed;
  if (tensor != nullptr) *tensor = &slot->tensor;
  return HandleState::Live;
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  uint32_t index;
  if (!table.free.empty()) {
    index = table.free.back();
    table.free.pop_back();
  } else {
    if (table.slots.size() >= 0xffffffffULL) throw std::runtime_error("too many live tensors");
    index = static_cast<uint32_t>(table.slots.size());
    table.slots.emplace_back();
  }
  Slot& slot = table.slots[index];
  slot.tensor = std::move(tensor);
  slot.live = true;
  table.live++;
  return Napi::External<void>::New(env, encode(index, slot.generation));
}

bool disposeHandle(const Napi::Value& value) {
  uint32_t generation = 0, index = 0;
  Slot* slot = slotOf(value, &generation, &index);
  if (slot == nullptr) throw ArgError("argument 0: expected a Tensor");
  if (!slot->live || (slot->generation & kGenerationMask) != generation) return false;
  slot->tensor = at::Tensor();
  slot->live = false;
  slot->generation++;
  table.live--;
  table.free.push_back(index);
  return true;
}

int64_t liveHandles() { return table.live; }

static const std::pair<const char*, at::ScalarType> kDtypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf},  {"bfloat16", at::kBFloat16},
    {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},   {"int8", at::kChar},
    {"uint8", at::kByte},    {"bool", at::kBool},
};

at::ScalarType parseDtype(const std::string& name) {
  for (const auto& [n, t] : kDtypes)
    if (name == n) return t;
  throw ArgError("unknown dtype '" + name + "' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)");
}

at::MemoryFormat parseMemoryFormat(const std::string& name) {
  if (name == "contiguous") return at::MemoryFormat::Contiguous;
  if (name == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (name == "preserve") return at::MemoryFormat::Preserve;
  throw ArgError("unknown memory format '" + name + "' (expected contiguous, channels_last or preserve)");
}

const char* dtypeName(at::ScalarType type) {
  for (const auto& [n, t] : kDtypes)
    if (type == t) return n;
  return c10::toString(type);
}

static const char* jsType(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_object: return v.IsArray() ? "array" : "object";
    case napi_external: return lookupHandle(v, nullptr) == HandleState::NotAHandle ? "foreign external" : "Tensor";
    case napi_bigint: return "bigint";
    default: return "other";
  }
}

void Args::fail(size_t i, const std::string& expected) const {
  std::string got = i < info_.Length() ? jsType(info_[i]) : "nothing";
  throw ArgError("argument " + std::to_string(i) + ": expected " + expected + ", got " + got);
}

const at::Tensor& Args::tensor(size_t i) const {
  if (i >= info_.Length()) fail(i, "a Tensor");
  at::Tensor* t = nullptr;
  HandleState state = lookupHandle(info_[i], &t);
  if (state == HandleState::NotAHandle) fail(i, "a Tensor");
  if (state == HandleState::Disposed) throw ArgError("argument " + std::to_string(i) + ": tensor was disposed");
  return *t;
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "an array of Tensors");
  auto array = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    at::Tensor* t = nullptr;
    HandleState state = lookupHandle(array.Get(k), &t);
    if (state == HandleState::NotAHandle) throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: expected a Tensor");
    if (state == HandleState::Disposed) throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: tensor was disposed");
    out.push_back(*t);
  }
  return out;
}

double Args::number(size_t i) const {
  if (i >= info_.Length()) fail(i, "a number");
  if (info_[i].IsNumber()) return info_[i].As<Napi::Number>().DoubleValue();
  if (info_[i].IsBoolean()) return info_[i].As<Napi::Boolean>().Value() ? 1.0 : 0.0;
  fail(i, "a number");
}

c10::optional<double> Args::optNumber(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return number(i);
}

int64_t Args::integer(size_t i) const {
  double v = number(i);
  if (!std::isfinite(v) || std::floor(v) != v) fail(i, "an integer");
  return static_cast<int64_t>(v);
}

c10::optional<int64_t> Args::optInteger(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return integer(i);
}

bool Args::boolean(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) fail(i, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

at::Scalar Args::scalar(size_t i) const {
  if (i < info_.Length() && info_[i].IsBoolean()) return at::Scalar(info_[i].As<Napi::Boolean>().Value());
  double v = number(i);
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

c10::optional<at::Scalar> Args::optScalar(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return scalar(i);
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (i < info_.Length() && info_[i].IsNumber()) return {integer(i)};
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "an array of integers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || std::floor(d) != d)
      throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: expected an integer, got " + jsType(v));
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::vector<double> Args::doubles(size_t i) const {
  if (i < info_.Length() && info_[i].IsNumber()) return {number(i)};
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "an array of numbers");
  auto array = info_[i].As<Napi::Array>();
  std::vector<double> out(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: expected a number, got " + jsType(v));
    out[k] = v.As<Napi::Number>().DoubleValue();
  }
  return out;
}

std::string Args::string(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) fail(i, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

c10::optional<at::ScalarType> Args::optDtype(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return dtype(i);
}

at::Device& defaultDevice() {
  thread_local at::Device device(at::kCPU);
  return device;
}

at::TensorOptions Args::options(size_t dtypeIndex, size_t deviceIndex) const {
  at::TensorOptions opts = at::TensorOptions().dtype(has(dtypeIndex) ? dtype(dtypeIndex) : at::kFloat).device(defaultDevice());
  if (has(deviceIndex)) {
    std::string device = string(deviceIndex);
    try {
      opts = opts.device(at::Device(device));
    } catch (const c10::Error&) {
      throw ArgError("argument " + std::to_string(deviceIndex) + ": unknown device '" + device + "' (expected cpu, cuda or cuda:N)");
    }
  }
  return opts;
}

struct GeneratorBox {
  at::Generator generator;
};

// Live generator boxes of this thread: a pointer is dereferenced only when it is one of them.
thread_local std::unordered_set<GeneratorBox*> liveGenerators;

c10::optional<at::Generator> Args::generator(size_t i) const {
  if (!has(i)) return c10::nullopt;
  if (!info_[i].IsExternal()) fail(i, "a Generator");
  auto* box = static_cast<GeneratorBox*>(info_[i].As<Napi::External<void>>().Data());
  if (liveGenerators.count(box) == 0) fail(i, "a Generator");
  return box->generator;
}

Napi::Value newGenerator(Napi::Env env, at::Generator generator) {
  auto* box = new GeneratorBox();
  box->generator = std::move(generator);
  liveGenerators.insert(box);
  return Napi::External<GeneratorBox>::New(env, box, [](Napi::Env, GeneratorBox* b) {
    liveGenerators.erase(b);
    delete b;
  });
}

static std::string describeValue(const Napi::Value& v, int depth) {
  std::ostringstream out;
  at::Tensor* handle = nullptr;
  HandleState state = lookupHandle(v, &handle);
  if (state == HandleState::Disposed) return "<disposed tensor>";
  if (state == HandleState::Live) {
    const at::Tensor& t = *handle;
    if (!t.defined()) return "<undefined tensor>";
    out << dtypeName(t.scalar_type()) << t.sizes();
    if (!t.device().is_cpu()) out << "@" << t.device();
    return out.str();
  }
  switch (v.Type()) {
    case napi_number: out << v.As<Napi::Number>().DoubleValue(); break;
    case napi_string: out << '"' << v.As<Napi::String>().Utf8Value() << '"'; break;
    case napi_boolean: out << (v.As<Napi::Boolean>().Value() ? "true" : "false"); break;
    case napi_object:
      if (v.IsArray() && depth < 1) {
        auto array = v.As<Napi::Array>();
        out << '[';
        for (uint32_t k = 0; k < array.Length() && k < 8; ++k) out << (k ? "," : "") << describeValue(array.Get(k), depth + 1);
        if (array.Length() > 8) out << ",...";
        out << ']';
      } else {
        out << jsType(v);
      }
      break;
    default: out << jsType(v);
  }
  return out.str();
}

std::string Args::describe() const {
  std::string s;
  for (size_t i = 0; i < info_.Length(); ++i) {
    if (i) s += ", ";
    s += describeValue(info_[i], 0);
  }
  return s;
}

Napi::Value toJs(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto array = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) array.Set(static_cast<uint32_t>(k), wrapTensor(env, ts[k]));
  return array;
}

Napi::Value toJs(Napi::Env env, const std::vector<int64_t>& v) {
  auto array = Napi::Array::New(env, v.size());
  for (size_t k = 0; k < v.size(); ++k) array.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(v[k])));
  return array;
}

Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts) {
  return toJs(env, std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
}

Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts) {
  return toJs(env, std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts), std::get<2>(ts)});
}

}  // namespace selfsup
