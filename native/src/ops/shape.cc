// Views and reshapes, joining and splitting.
#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(shape) {
  def("view", "tensor, ints -> tensor", [](Args& a) { return a.tensor(0).view(a.ints(1)); });
  def("reshape", "tensor, ints -> tensor", [](Args& a) { return a.tensor(0).reshape(a.ints(1)); });
  def("permute", "tensor, ints -> tensor", [](Args& a) { return a.tensor(0).permute(a.ints(1)); });
  def("transpose", "tensor, int, int -> tensor", [](Args& a) { return a.tensor(0).transpose(a.integer(1), a.integer(2)); });
  def("expand", "tensor, ints -> tensor", [](Args& a) { return a.tensor(0).expand(a.ints(1)); });
  def("expandAs", "tensor, tensor -> tensor", [](Args& a) { return a.tensor(0).expand_as(a.tensor(1)); });
  def("repeat", "tensor, ints -> tensor", [](Args& a) { return a.tensor(0).repeat(a.ints(1)); });
  def("repeatInterleave", "tensor, int, int? -> tensor", [](Args& a) {
    return at::repeat_interleave(a.tensor(0), a.integer(1), a.optInteger(2));
  });
  def("flatten", "tensor, int?, int? -> tensor", [](Args& a) { return a.tensor(0).flatten(a.integerOr(1, 0), a.integerOr(2, -1)); });
  def("unflatten", "tensor, int, ints -> tensor", [](Args& a) { return a.tensor(0).unflatten(a.integer(1), a.ints(2)); });
  def("squeeze", "tensor, int? -> tensor", [](Args& a) { return a.has(1) ? a.tensor(0).squeeze(a.integer(1)) : a.tensor(0).squeeze(); });
  def("unsqueeze", "tensor, int -> tensor", [](Args& a) { return a.tensor(0).unsqueeze(a.integer(1)); });
  def("narrow", "tensor, int, int, int -> tensor", [](Args& a) { return a.tensor(0).narrow(a.integer(1), a.integer(2), a.integer(3)); });
  // slice(t, dim, start?, end?, step = 1), Python-style negative bounds.
  def("slice", "tensor, int, int?, int?, int? -> tensor", [](Args& a) {
    return a.tensor(0).slice(a.integer(1), a.optInteger(2), a.optInteger(3), a.integerOr(4, 1));
  });
  def("select", "tensor, int, int -> tensor", [](Args& a) { return a.tensor(0).select(a.integer(1), a.integer(2)); });
  def("flip", "tensor, ints -> tensor", [](Args& a) { return at::flip(a.tensor(0), a.ints(1)); });
  def("roll", "tensor, ints, ints -> tensor", [](Args& a) { return at::roll(a.tensor(0), a.ints(1), a.ints(2)); });
  def("tril", "tensor, int? -> tensor", [](Args& a) { return at::tril(a.tensor(0), a.integerOr(1, 0)); });
  def("triu", "tensor, int? -> tensor", [](Args& a) { return at::triu(a.tensor(0), a.integerOr(1, 0)); });
  def("diagonal", "tensor, int?, int?, int? -> tensor", [](Args& a) { return at::diagonal(a.tensor(0), a.integerOr(1, 0), a.integerOr(2, 0), a.integerOr(3, 1)); });
  def("diag", "tensor, int? -> tensor", [](Args& a) { return at::diag(a.tensor(0), a.integerOr(1, 0)); });
  def("cat", "tensors, int? -> tensor", [](Args& a) { return at::cat(a.tensors(0), a.integerOr(1, 0)); });
  def("stack", "tensors, int? -> tensor", [](Args& a) { return at::stack(a.tensors(0), a.integerOr(1, 0)); });
  // split(t, sizeOrSizes, dim): a number splits into equal chunks of that size.
  def("split", "tensor, int|ints?, int? -> tensors", [](Args& a) {
    int64_t dim = a.integerOr(2, 0);
    if (a.isNumber(1)) return a.tensor(0).split(a.integer(1), dim);
    return a.tensor(0).split_with_sizes(a.ints(1), dim);
  });
  def("chunk", "tensor, int, int? -> tensors", [](Args& a) { return a.tensor(0).chunk(a.integer(1), a.integerOr(2, 0)); });
  def("unbind", "tensor, int? -> tensors", [](Args& a) { return a.tensor(0).unbind(a.integerOr(1, 0)); });
  // unfoldDim(t, dim, size, step): sliding windows along one dimension (Tensor.unfold).
  def("unfoldDim", "tensor, int, int, int -> tensor", [](Args& a) { return a.tensor(0).unfold(a.integer(1), a.integer(2), a.integer(3)); });
}

}  // namespace selfsup
