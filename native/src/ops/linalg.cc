// Matrix products, similarity and attention.
#include <torch/version.h>

#include <cmath>

#include "common.h"

#define SELFSUP_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace selfsup {
namespace {

/** softmax(q k^T * scale + mask) v, the composed form (libtorch 1.13, or when weights are wanted). */
std::tuple<at::Tensor, at::Tensor> attentionComposed(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                     const c10::optional<at::Tensor>& mask, double dropout, bool causal,
                                                     double scale) {
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(scale);  // [..., Lq, Lk]
  if (causal) {
    at::Tensor keep = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    scores = scores.masked_fill(keep.logical_not(), -std::numeric_limits<double>::infinity());
  }
  if (mask) {
    scores = mask->scalar_type() == at::kBool ? scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity())
                                              : scores + *mask;
  }
  at::Tensor weights = at::softmax(scores, -1);
  at::Tensor dropped = dropout > 0 ? at::dropout(weights, dropout, true) : weights;
  return {at::matmul(dropped, v), weights};
}

}  // namespace

SELFSUP_REGISTER(linalg) {
  def("matmul", "tensor, tensor -> tensor", [](Args& a) { return at::matmul(a.tensor(0), a.tensor(1)); });
  def("mm", "tensor, tensor -> tensor", [](Args& a) { return at::mm(a.tensor(0), a.tensor(1)); });
  def("bmm", "tensor, tensor -> tensor", [](Args& a) { return at::bmm(a.tensor(0), a.tensor(1)); });
  def("outer", "tensor, tensor -> tensor", [](Args& a) { return at::outer(a.tensor(0), a.tensor(1)); });
  def("einsum", "string, tensors -> tensor", [](Args& a) { return at::einsum(a.string(0), a.tensors(1)); });
  // linear(x, weight[out, in], bias?[out]) = x weight^T + bias
  def("linear", "tensor, tensor, tensor? -> tensor", [](Args& a) { return at::linear(a.tensor(0), a.tensor(1), a.optTensor(2)); });
  def("addmm", "tensor, tensor, tensor, scalar?, scalar? -> tensor", [](Args& a) { return at::addmm(a.tensor(0), a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0), a.scalarOr(4, 1.0)); });
  def("baddbmm", "tensor, tensor, tensor, scalar?, scalar? -> tensor", [](Args& a) { return at::baddbmm(a.tensor(0), a.tensor(1), a.tensor(2), a.scalarOr(3, 1.0), a.scalarOr(4, 1.0)); });
  // normalize(x, p = 2, dim = 1, eps = 1e-12) = x / max(||x||_p, eps), as torch.nn.functional.normalize.
  def("normalize", "tensor, number?, int?, number? -> tensor", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    at::Scalar p(a.numberOr(1, 2.0));
    std::vector<int64_t> dim{a.integerOr(2, 1)};
    at::Tensor norm = at::linalg_vector_norm(x, p, at::IntArrayRef(dim), true, c10::nullopt).clamp_min(a.numberOr(3, 1e-12));
    return x / norm.expand_as(x);
  });
  def("cosineSimilarity", "tensor, tensor, int?, number? -> tensor", [](Args& a) {
    return at::cosine_similarity(a.tensor(0), a.tensor(1), a.integerOr(2, 1), a.numberOr(3, 1e-8));
  });
  // svdvals(x[..., m, n]) -> singular values [..., min(m, n)], descending (torch.linalg.svdvals)
  def("svdvals", "tensor -> tensor", [](Args& a) { return at::linalg_svdvals(a.tensor(0)); });
  def("cdist", "tensor, tensor, number? -> tensor", [](Args& a) { return at::cdist(a.tensor(0), a.tensor(1), a.numberOr(2, 2.0)); });

  // attention(q[..., Lq, E], k[..., Lk, E], v[..., Lk, Ev], mask?, dropout = 0, causal = false,
  //           scale = 1/sqrt(E), needWeights = false) -> [out[..., Lq, Ev], weights?]
  // Uses libtorch's fused scaled_dot_product_attention where it has one (2.x) and no weights are asked for.
  def("attention", "tensor, tensor, tensor, tensor?, number?, bool?, number?, bool? -> tensors", [](Args& a) {
    const at::Tensor &q = a.tensor(0), &k = a.tensor(1), &v = a.tensor(2);
    c10::optional<at::Tensor> mask = a.optTensor(3);
    double dropout = a.numberOr(4, 0.0);
    bool causal = a.booleanOr(5, false);
    double scale = a.has(6) ? a.number(6) : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    bool needWeights = a.booleanOr(7, false);
#if SELFSUP_TORCH_AT_LEAST(2, 1)
    if (!needWeights) {
      return std::vector<at::Tensor>{at::scaled_dot_product_attention(q, k, v, mask, dropout, causal, scale)};
    }
#endif
    auto [out, weights] = attentionComposed(q, k, v, mask, dropout, causal, scale);
    if (needWeights) return std::vector<at::Tensor>{out, weights};
    return std::vector<at::Tensor>{out};
  });
}

}  // namespace selfsup
