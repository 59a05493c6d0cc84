// Optimizer updates over a whole parameter group in one call: the loop of PyTorch's
// single-tensor optimizers, without a round trip from JavaScript per tensor (a ViT-Tiny
// has 152 parameters, ten ops each).
#include <cmath>

#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(optim) {
  // adamwStep(params[], steps[], m[], v[], lr, beta1, beta2, eps, weightDecay): torch.optim.AdamW
  // (Loshchilov & Hutter, 2019) for every parameter that has a gradient, in place:
  //   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
  //   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps), t = ++step (a float64 scalar tensor).
  def("adamwStep", "tensors, tensors, tensors, tensors, number, number, number, number, number -> void", [](Args& a) {
    c10::NoGradGuard noGrad;
    std::vector<at::Tensor> params = a.tensors(0), steps = a.tensors(1), m = a.tensors(2), v = a.tensors(3);
    TORCH_CHECK(steps.size() == params.size() && m.size() == params.size() && v.size() == params.size(),
                "adamwStep: ", params.size(), " parameters but ", steps.size(), " steps, ", m.size(), " first and ",
                v.size(), " second moments");
    const double lr = a.number(4), beta1 = a.number(5), beta2 = a.number(6), eps = a.number(7), decay = a.number(8);
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor& p = params[i];
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      const double t = steps[i].add_(1).item<double>();
      if (decay != 0) p.mul_(1 - lr * decay);
      m[i].lerp_(g, 1 - beta1);
      v[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
      at::Tensor denom = v[i].sqrt().div_(std::sqrt(1 - std::pow(beta2, t))).add_(eps);
      p.addcdiv_(m[i], denom, -lr / (1 - std::pow(beta1, t)));
    }
  });
  // zeroGrads(params[], setToNone = true): Tensor.zeroGrad for a list.
  def("zeroGrads", "tensors, bool? -> void", [](Args& a) {
    const bool setToNone = a.booleanOr(1, true);
    for (at::Tensor& t : a.tensors(0)) {
      if (!t.grad().defined()) continue;
      if (setToNone) t.mutable_grad() = at::Tensor();
      else t.mutable_grad().zero_();
    }
  });
}

}  // namespace selfsup
