// Gathering, scattering, sorting and selection by index or mask.
#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(indexing) {
  def("indexSelect", "tensor, int, tensor -> tensor", [](Args& a) { return at::index_select(a.tensor(0), a.integer(1), a.tensor(2)); });
  def("gather", "tensor, int, tensor -> tensor", [](Args& a) { return at::gather(a.tensor(0), a.integer(1), a.tensor(2)); });
  // scatter(t, dim, index, srcTensorOrValue)
  def("scatter", "tensor, int, tensor, tensor|scalar -> tensor", [](Args& a) {
    if (a.isTensor(3)) return at::scatter(a.tensor(0), a.integer(1), a.tensor(2), a.tensor(3));
    return at::scatter(a.tensor(0), a.integer(1), a.tensor(2), a.scalar(3));
  });
  def("scatterAdd", "tensor, int, tensor, tensor -> tensor", [](Args& a) { return at::scatter_add(a.tensor(0), a.integer(1), a.tensor(2), a.tensor(3)); });
  // scatterReduce(t, dim, index, src, "sum"|"prod"|"mean"|"amax"|"amin", includeSelf = true)
  def("scatterReduce", "tensor, int, tensor, tensor, string, bool? -> tensor", [](Args& a) {
    return at::scatter_reduce(a.tensor(0), a.integer(1), a.tensor(2), a.tensor(3), a.string(4), a.booleanOr(5, true));
  });
  def("indexAdd", "tensor, int, tensor, tensor -> tensor", [](Args& a) { return at::index_add(a.tensor(0), a.integer(1), a.tensor(2), a.tensor(3)); });
  def("takeAlongDim", "tensor, tensor, int? -> tensor", [](Args& a) { return at::take_along_dim(a.tensor(0), a.tensor(1), a.optInteger(2)); });
  def("maskedSelect", "tensor, tensor -> tensor", [](Args& a) { return at::masked_select(a.tensor(0), a.tensor(1)); });
  def("nonzero", "tensor -> tensor", [](Args& a) { return at::nonzero(a.tensor(0)); });
  // sort(t, dim = -1, descending = false, stable = false) -> [values, indices]
  def("sort", "tensor, int?, bool?, bool? -> tensors", [](Args& a) {
    return at::sort(a.tensor(0), c10::optional<bool>(a.booleanOr(3, false)), a.integerOr(1, -1), a.booleanOr(2, false));
  });
  def("argsort", "tensor, int?, bool?, bool? -> tensor", [](Args& a) {
    return std::get<1>(at::sort(a.tensor(0), c10::optional<bool>(a.booleanOr(3, false)), a.integerOr(1, -1), a.booleanOr(2, false)));
  });
  // topk(t, k, dim = -1, largest = true, sorted = true) -> [values, indices]
  def("topk", "tensor, int, int?, bool?, bool? -> tensors", [](Args& a) {
    return at::topk(a.tensor(0), a.integer(1), a.integerOr(2, -1), a.booleanOr(3, true), a.booleanOr(4, true));
  });
  def("oneHot", "tensor, int? -> tensor", [](Args& a) { return at::one_hot(a.tensor(0), a.integerOr(1, -1)); });
  def("embedding", "tensor, tensor -> tensor", [](Args& a) { return at::embedding(a.tensor(0), a.tensor(1)); });
  // indexPut(t, [indices...], values, accumulate = false): t[i0, i1, ...] = values (out of place).
  def("indexPut", "tensor, tensors, tensor, bool? -> tensor", [](Args& a) {
    c10::List<c10::optional<at::Tensor>> indices;
    for (const at::Tensor& i : a.tensors(1)) indices.push_back(i);
    return at::index_put(a.tensor(0), indices, a.tensor(2), a.booleanOr(3, false));
  });
  // index(t, [indices...]): advanced indexing t[i0, i1, ...].
  def("index", "tensor, tensors -> tensor", [](Args& a) {
    c10::List<c10::optional<at::Tensor>> indices;
    for (const at::Tensor& i : a.tensors(1)) indices.push_back(i);
    return at::index(a.tensor(0), indices);
  });
}

}  // namespace selfsup
