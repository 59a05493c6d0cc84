// Reductions. Dimension lists may be empty (reduce everything) and negative.
#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(reduction) {
  // sum(t, dims?, keepdim?, dtype?)
  def("sum", "tensor, ints?, bool?, dtype? -> tensor", [](Args& a) {
    if (!a.has(1)) return at::sum(a.tensor(0), a.optDtype(3));
    return at::sum(a.tensor(0), at::IntArrayRef(a.ints(1)), a.booleanOr(2, false), a.optDtype(3));
  });
  def("mean", "tensor, ints?, bool?, dtype? -> tensor", [](Args& a) {
    if (!a.has(1)) return at::mean(a.tensor(0), a.optDtype(3));
    return at::mean(a.tensor(0), at::IntArrayRef(a.ints(1)), a.booleanOr(2, false), a.optDtype(3));
  });
  def("prod", "tensor, int?, bool? -> tensor", [](Args& a) {
    if (!a.has(1)) return at::prod(a.tensor(0));
    return at::prod(a.tensor(0), a.integer(1), a.booleanOr(2, false));
  });
  // var/std(t, dims?, unbiased = true, keepdim = false)
  def("var", "tensor, ints?, bool?, bool? -> tensor", [](Args& a) {
    if (!a.has(1)) return at::var(a.tensor(0), a.booleanOr(2, true));
    return at::var(a.tensor(0), at::IntArrayRef(a.ints(1)), a.booleanOr(2, true), a.booleanOr(3, false));
  });
  def("std", "tensor, ints?, bool?, bool? -> tensor", [](Args& a) {
    if (!a.has(1)) return at::std(a.tensor(0), a.booleanOr(2, true));
    return at::std(a.tensor(0), at::IntArrayRef(a.ints(1)), a.booleanOr(2, true), a.booleanOr(3, false));
  });
  // max/min(t) -> tensor; maxDim/minDim(t, dim, keepdim) -> [values, indices]
  def("max", "tensor -> tensor", [](Args& a) { return at::max(a.tensor(0)); });
  def("min", "tensor -> tensor", [](Args& a) { return at::min(a.tensor(0)); });
  def("maxDim", "tensor, int, bool? -> tensors", [](Args& a) { return at::max(a.tensor(0), a.integer(1), a.booleanOr(2, false)); });
  def("minDim", "tensor, int, bool? -> tensors", [](Args& a) { return at::min(a.tensor(0), a.integer(1), a.booleanOr(2, false)); });
  def("amax", "tensor, ints, bool? -> tensor", [](Args& a) { return at::amax(a.tensor(0), a.ints(1), a.booleanOr(2, false)); });
  def("amin", "tensor, ints, bool? -> tensor", [](Args& a) { return at::amin(a.tensor(0), a.ints(1), a.booleanOr(2, false)); });
  def("argmax", "tensor, int?, bool? -> tensor", [](Args& a) { return at::argmax(a.tensor(0), a.optInteger(1), a.booleanOr(2, false)); });
  def("argmin", "tensor, int?, bool? -> tensor", [](Args& a) { return at::argmin(a.tensor(0), a.optInteger(1), a.booleanOr(2, false)); });
  def("logsumexp", "tensor, ints, bool? -> tensor", [](Args& a) { return at::logsumexp(a.tensor(0), a.ints(1), a.booleanOr(2, false)); });
  // norm(t, p = 2, dims?, keepdim = false): the vector p-norm (p may be Infinity).
  def("norm", "tensor, number?, ints?, bool? -> tensor", [](Args& a) {
    at::Scalar p = a.has(1) ? at::Scalar(a.number(1)) : at::Scalar(2.0);
    if (!a.has(2)) return at::linalg_vector_norm(a.tensor(0), p, c10::nullopt, a.booleanOr(3, false), c10::nullopt);
    std::vector<int64_t> dims = a.ints(2);
    return at::linalg_vector_norm(a.tensor(0), p, at::IntArrayRef(dims), a.booleanOr(3, false), c10::nullopt);
  });
  def("cumsum", "tensor, int -> tensor", [](Args& a) { return at::cumsum(a.tensor(0), a.integer(1)); });
  def("all", "tensor, int?, bool? -> tensor", [](Args& a) { return a.has(1) ? at::all(a.tensor(0), a.integer(1), a.booleanOr(2, false)) : at::all(a.tensor(0)); });
  def("any", "tensor, int?, bool? -> tensor", [](Args& a) { return a.has(1) ? at::any(a.tensor(0), a.integer(1), a.booleanOr(2, false)) : at::any(a.tensor(0)); });
  def("countNonzero", "tensor, int? -> tensor", [](Args& a) { return at::count_nonzero(a.tensor(0), a.optInteger(1)); });
}

}  // namespace selfsup
