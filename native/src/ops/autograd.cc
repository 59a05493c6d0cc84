// Autograd: gradients, backward, graph control.
#include <torch/csrc/autograd/autograd.h>

#include "common.h"

namespace selfsup {

SELFSUP_REGISTER(autograd) {
  def("requiresGrad", "tensor -> bool", [](Args& a) { return a.tensor(0).requires_grad(); });
  def("setRequiresGrad", "tensor, bool -> void", [](Args& a) { a.tensor(0).requires_grad_(a.boolean(1)); });
  def("isLeaf", "tensor -> bool", [](Args& a) { return a.tensor(0).is_leaf(); });
  def("retainGrad", "tensor -> void", [](Args& a) { a.tensor(0).retain_grad(); });
  // grad(t) -> Tensor | null
  def("grad", "tensor -> tensor?", [](Args& a) -> Napi::Value {
    const at::Tensor& g = a.tensor(0).grad();
    if (!g.defined()) return a.env.Null();
    return wrapTensor(a.env, g);
  });
  def("setGrad", "tensor, tensor? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    t.mutable_grad() = a.has(1) ? a.tensor(1) : at::Tensor();
  });
  // zeroGrad(t, setToNone = true)
  def("zeroGrad", "tensor, bool? -> void", [](Args& a) {
    at::Tensor t = a.tensor(0);
    if (!t.grad().defined()) return;
    if (a.booleanOr(1, true)) t.mutable_grad() = at::Tensor();
    else t.mutable_grad().zero_();
  });
  // backward(t, gradient?, retainGraph = false, createGraph = false)
  def("backward", "tensor, tensor?, bool?, bool? -> void", [](Args& a) {
    const at::Tensor& t = a.tensor(0);
    TORCH_CHECK(t.requires_grad(), "the tensor does not require grad and has no grad_fn: nothing to differentiate");
    at::Tensor gradient = a.has(1) ? a.tensor(1) : at::Tensor();
    TORCH_CHECK(gradient.defined() || t.numel() == 1, "backward of a tensor with ", t.numel(),
                " elements needs a gradient argument (grad can be implicitly created only for scalar outputs)");
    bool createGraph = a.booleanOr(3, false);
    t.backward(gradient, a.has(2) ? c10::optional<bool>(a.boolean(2)) : c10::nullopt, createGraph);
  });
  // gradients(outputs[], inputs[], gradOutputs[]?, retainGraph = false, createGraph = false, allowUnused = false)
  //   -> (Tensor | null)[]: d(sum outputs . gradOutputs)/d inputs, as torch.autograd.grad.
  def("gradients", "tensors, tensors, tensors?, bool?, bool?, bool? -> tensor?[]", [](Args& a) -> Napi::Value {
    std::vector<at::Tensor> outputs = a.tensors(0), inputs = a.tensors(1);
    std::vector<at::Tensor> gradOutputs = a.has(2) ? a.tensors(2) : std::vector<at::Tensor>{};
    bool createGraph = a.booleanOr(4, false);
    c10::optional<bool> retain = a.has(3) ? c10::optional<bool>(a.boolean(3)) : c10::nullopt;
    auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, retain, createGraph, a.booleanOr(5, false));
    auto array = Napi::Array::New(a.env, grads.size());
    for (size_t k = 0; k < grads.size(); ++k)
      array.Set(static_cast<uint32_t>(k), grads[k].defined() ? wrapTensor(a.env, grads[k]) : a.env.Null());
    return array;
  });
}

}  // namespace selfsup
