// Loss functions (reduction: "mean" | "sum" | "none").
#include "common.h"

namespace selfsup {
namespace {

int64_t reduction(const Args& a, size_t i) {
  std::string r = a.stringOr(i, "mean");
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw ArgError("argument " + std::to_string(i) + ": unknown reduction '" + r + "' (expected mean, sum or none)");
}

}  // namespace

SELFSUP_REGISTER(loss) {
  // crossEntropy(logits[N,C,...], target, weight?, reduction, ignoreIndex = -100, labelSmoothing = 0):
  // target holds class indices [N,...] (int64) or class probabilities [N,C,...] (float, soft targets).
  def("crossEntropy", "tensor, tensor, tensor?, string?, int?, number? -> tensor", [](Args& a) {
    return at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), reduction(a, 3), a.integerOr(4, -100), a.numberOr(5, 0.0));
  });
  def("nllLoss", "tensor, tensor, tensor?, string?, int? -> tensor", [](Args& a) {
    return at::nll_loss_nd(a.tensor(0), a.tensor(1), a.optTensor(2), reduction(a, 3), a.integerOr(4, -100));
  });
  def("mseLoss", "tensor, tensor, string? -> tensor", [](Args& a) { return at::mse_loss(a.tensor(0), a.tensor(1), reduction(a, 2)); });
  def("l1Loss", "tensor, tensor, string? -> tensor", [](Args& a) { return at::l1_loss(a.tensor(0), a.tensor(1), reduction(a, 2)); });
  // smoothL1Loss(input, target, reduction, beta = 1)
  def("smoothL1Loss", "tensor, tensor, string?, number? -> tensor", [](Args& a) { return at::smooth_l1_loss(a.tensor(0), a.tensor(1), reduction(a, 2), a.numberOr(3, 1.0)); });
  // bceWithLogits(logits, target, weight?, reduction, posWeight?)
  def("bceWithLogits", "tensor, tensor, tensor?, string?, tensor? -> tensor", [](Args& a) {
    return at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), a.optTensor(2), a.optTensor(4), reduction(a, 3));
  });
  // klDiv(logInput, target, reduction, logTarget = false)
  def("klDiv", "tensor, tensor, string?, bool? -> tensor", [](Args& a) { return at::kl_div(a.tensor(0), a.tensor(1), reduction(a, 2), a.booleanOr(3, false)); });
}

}  // namespace selfsup
