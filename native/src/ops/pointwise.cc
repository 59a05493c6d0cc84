// Elementwise math, comparisons, activations and the in-place updates optimizers use.
#include "common.h"

namespace selfsup {

#define UNARY(js, fn) def(js, "tensor -> tensor", [](Args& a) { return at::fn(a.tensor(0)); })
// Binary ops accept a Tensor or a number as the second operand (broadcasting applies).
#define BINARY(js, fn) \
  def(js, "tensor, tensor|scalar -> tensor", [](Args& a) { return a.isTensor(1) ? at::fn(a.tensor(0), a.tensor(1)) : at::fn(a.tensor(0), a.scalar(1)); })
#define INPLACE_BINARY(js, method)                   \
  def(js, "tensor, tensor|scalar -> void", [](Args& a) { \
    at::Tensor t = a.tensor(0);                      \
    if (a.isTensor(1)) t.method(a.tensor(1));        \
    else t.method(a.scalar(1));                      \
  })

SELFSUP_REGISTER(pointwise) {
  UNARY("neg", neg); UNARY("abs", abs); UNARY("exp", exp); UNARY("log", log); UNARY("log1p", log1p);
  UNARY("expm1", expm1); UNARY("log2", log2); UNARY("sqrt", sqrt); UNARY("rsqrt", rsqrt);
  UNARY("sin", sin); UNARY("cos", cos); UNARY("tanh", tanh); UNARY("sigmoid", sigmoid);
  UNARY("erf", erf); UNARY("erfinv", erfinv); UNARY("sign", sign); UNARY("floor", floor); UNARY("ceil", ceil);
  UNARY("round", round); UNARY("trunc", trunc); UNARY("reciprocal", reciprocal); UNARY("square", square);
  UNARY("relu", relu); UNARY("silu", silu); UNARY("isnan", isnan); UNARY("isfinite", isfinite);
  UNARY("isinf", isinf); UNARY("logicalNot", logical_not); UNARY("logSigmoid", log_sigmoid);

  def("add", "tensor, tensor|scalar, scalar? -> tensor", [](Args& a) {
    at::Scalar alpha = a.scalarOr(2, 1.0);
    return a.isTensor(1) ? at::add(a.tensor(0), a.tensor(1), alpha) : at::add(a.tensor(0), a.scalar(1), alpha);
  });
  def("sub", "tensor, tensor|scalar, scalar? -> tensor", [](Args& a) {
    at::Scalar alpha = a.scalarOr(2, 1.0);
    return a.isTensor(1) ? at::sub(a.tensor(0), a.tensor(1), alpha) : at::sub(a.tensor(0), a.scalar(1), alpha);
  });
  // rsub(t, x) = x - t, for number - tensor.
  def("rsub", "tensor, scalar -> tensor", [](Args& a) { return at::rsub(a.tensor(0), a.scalar(1)); });
  BINARY("mul", mul);
  BINARY("div", div);
  BINARY("pow", pow);
  BINARY("remainder", remainder);
  BINARY("fmod", fmod);
  def("floorDivide", "tensor, tensor|scalar -> tensor", [](Args& a) {
    return a.isTensor(1) ? at::div(a.tensor(0), a.tensor(1), "floor") : at::div(a.tensor(0), a.scalar(1), "floor");
  });
  // rpow(t, x) = x ** t
  def("rpow", "tensor, scalar -> tensor", [](Args& a) { return at::pow(a.scalar(1), a.tensor(0)); });
  def("maximum", "tensor, tensor|scalar -> tensor", [](Args& a) {
    return a.isTensor(1) ? at::maximum(a.tensor(0), a.tensor(1)) : at::clamp_min(a.tensor(0), a.scalar(1));
  });
  def("minimum", "tensor, tensor|scalar -> tensor", [](Args& a) {
    return a.isTensor(1) ? at::minimum(a.tensor(0), a.tensor(1)) : at::clamp_max(a.tensor(0), a.scalar(1));
  });
  def("atan2", "tensor, tensor -> tensor", [](Args& a) { return at::atan2(a.tensor(0), a.tensor(1)); });
  BINARY("eq", eq); BINARY("ne", ne); BINARY("lt", lt); BINARY("le", le); BINARY("gt", gt); BINARY("ge", ge);
  def("logicalAnd", "tensor, tensor -> tensor", [](Args& a) { return at::logical_and(a.tensor(0), a.tensor(1)); });
  def("logicalOr", "tensor, tensor -> tensor", [](Args& a) { return at::logical_or(a.tensor(0), a.tensor(1)); });
  def("logicalXor", "tensor, tensor -> tensor", [](Args& a) { return at::logical_xor(a.tensor(0), a.tensor(1)); });
  def("allclose", "tensor, tensor, number?, number?, bool? -> bool", [](Args& a) {
    return at::allclose(a.tensor(0), a.tensor(1), a.numberOr(2, 1e-5), a.numberOr(3, 1e-8), a.booleanOr(4, false));
  });
  def("equal", "tensor, tensor -> bool", [](Args& a) { return at::equal(a.tensor(0), a.tensor(1)); });

  // clamp(t, min?, max?) with numbers or tensors.
  def("clamp", "tensor, tensor|scalar?, tensor|scalar? -> tensor", [](Args& a) {
    if (a.isTensor(1) || a.isTensor(2)) return at::clamp(a.tensor(0), a.optTensor(1), a.optTensor(2));
    TORCH_CHECK(a.has(1) || a.has(2), "clamp needs a min or a max");
    return at::clamp(a.tensor(0), a.optScalar(1), a.optScalar(2));
  });
  def("where", "tensor, tensor|scalar, tensor|scalar -> tensor", [](Args& a) {
    if (a.isTensor(1) && a.isTensor(2)) return at::where(a.tensor(0), a.tensor(1), a.tensor(2));
    if (a.isTensor(1)) return at::where(a.tensor(0), a.tensor(1), a.scalar(2));
    if (a.isTensor(2)) return at::where(a.tensor(0), a.scalar(1), a.tensor(2));
    return at::where(a.tensor(0), a.scalar(1), a.scalar(2));
  });
  def("maskedFill", "tensor, tensor, tensor|scalar -> tensor", [](Args& a) {
    return a.isTensor(2) ? at::masked_fill(a.tensor(0), a.tensor(1), a.tensor(2)) : at::masked_fill(a.tensor(0), a.tensor(1), a.scalar(2));
  });
  def("lerp", "tensor, tensor, tensor|scalar -> tensor", [](Args& a) {
    return a.isTensor(2) ? at::lerp(a.tensor(0), a.tensor(1), a.tensor(2)) : at::lerp(a.tensor(0), a.tensor(1), a.scalar(2));
  });
  def("addcmul", "tensor, tensor, tensor, scalar? -> tensor", [](Args& a) { return at::addcmul(a.tensor(0), a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0)); });
  def("addcdiv", "tensor, tensor, tensor, scalar? -> tensor", [](Args& a) { return at::addcdiv(a.tensor(0), a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0)); });
  def("nanToNum", "tensor, number?, number?, number? -> tensor", [](Args& a) { return at::nan_to_num(a.tensor(0), a.optNumber(1), a.optNumber(2), a.optNumber(3)); });

  // ---- activations ----
  def("gelu", "tensor, string? -> tensor", [](Args& a) { return at::gelu(a.tensor(0), a.stringOr(1, "none")); });
  def("leakyRelu", "tensor, scalar? -> tensor", [](Args& a) { return at::leaky_relu(a.tensor(0), a.scalarOr(1, 0.01)); });
  def("elu", "tensor, scalar? -> tensor", [](Args& a) { return at::elu(a.tensor(0), a.scalarOr(1, 1.0)); });
  def("softplus", "tensor, scalar?, scalar? -> tensor", [](Args& a) { return at::softplus(a.tensor(0), a.scalarOr(1, 1.0), a.scalarOr(2, 20.0)); });
  def("hardtanh", "tensor, scalar?, scalar? -> tensor", [](Args& a) { return at::hardtanh(a.tensor(0), a.scalarOr(1, -1.0), a.scalarOr(2, 1.0)); });

  // ---- dtype, device, copies ----
  def("to", "tensor, dtype?, device? -> tensor", [](Args& a) {
    const at::Tensor& t = a.tensor(0);
    at::TensorOptions opts = at::TensorOptions().dtype(a.has(1) ? a.dtype(1) : t.scalar_type());
    opts = opts.device(a.has(2) ? a.options(1, 2).device() : t.device());
    return t.to(opts, /*non_blocking=*/false, /*copy=*/false);
  });
  def("clone", "tensor -> tensor", [](Args& a) { return a.tensor(0).clone(); });
  // contiguous(t, format = 'contiguous'): a copy in that memory format (or t itself when it already is)
  def("contiguous", "tensor, string? -> tensor", [](Args& a) { return a.tensor(0).contiguous(parseMemoryFormat(a.stringOr(1, "contiguous"))); });
  // setData(t, src): t's storage, strides and dtype become src's, in place, outside autograd (PyTorch's `param.data = src`):
  // a parameter changes memory format while the optimizer and the module keep holding it.
  def("setData", "tensor, tensor -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    t.set_data(a.tensor(1));
  });
  def("detach", "tensor -> tensor", [](Args& a) { return a.tensor(0).detach(); });

  // ---- in-place updates: (t, ...) -> undefined ----
  def("add_", "tensor, tensor|scalar, scalar? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    if (a.isTensor(1)) t.add_(a.tensor(1), a.scalarOr(2, 1.0));
    else t.add_(a.scalar(1), a.scalarOr(2, 1.0));
  });
  def("sub_", "tensor, tensor|scalar, scalar? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    if (a.isTensor(1)) t.sub_(a.tensor(1), a.scalarOr(2, 1.0));
    else t.sub_(a.scalar(1), a.scalarOr(2, 1.0));
  });
  INPLACE_BINARY("mul_", mul_);
  INPLACE_BINARY("div_", div_);
  INPLACE_BINARY("pow_", pow_);
  def("addcmul_", "tensor, tensor, tensor, scalar? -> void", [](Args& a) { a.tensor(0).addcmul_(a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0)); });
  def("addcdiv_", "tensor, tensor, tensor, scalar? -> void", [](Args& a) { a.tensor(0).addcdiv_(a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0)); });
  def("lerp_", "tensor, tensor, tensor|scalar -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    if (a.isTensor(2)) t.lerp_(a.tensor(1), a.tensor(2));
    else t.lerp_(a.tensor(1), a.scalar(2));
  });
  def("copy_", "tensor, tensor -> void", [](Args& a) { a.tensor(0).copy_(a.tensor(1)); });
  def("zero_", "tensor -> void", [](Args& a) { a.tensor(0).zero_(); });
  def("fill_", "tensor, scalar -> void", [](Args& a) { a.tensor(0).fill_(a.scalar(1)); });
  def("sqrt_", "tensor -> void", [](Args& a) { a.tensor(0).sqrt_(); });
  // In-place ReLU, as torchvision's ReLU(inplace=True): no new buffer for the activation.
  def("relu_", "tensor -> void", [](Args& a) { a.tensor(0).relu_(); });
  def("clamp_", "tensor, scalar?, scalar? -> void", [](Args& a) {
    TORCH_CHECK(a.has(1) || a.has(2), "clamp_ needs a min or a max");
    a.tensor(0).clamp_(a.optScalar(1), a.optScalar(2));
  });
  def("maskedFill_", "tensor, tensor, scalar -> void", [](Args& a) { a.tensor(0).masked_fill_(a.tensor(1), a.scalar(2)); });
}

}  // namespace selfsup
