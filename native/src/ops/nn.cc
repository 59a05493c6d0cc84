// Convolutions, pooling, normalisation, dropout, softmax, resampling and patch extraction.
#include "common.h"

namespace selfsup {
namespace {

/** Expands a single size to `n` copies (stride 2 -> [2, 2]). */
std::vector<int64_t> pair(std::vector<int64_t> v, size_t n = 2) {
  if (v.size() == 1) v.resize(n, v[0]);
  return v;
}

}  // namespace

SELFSUP_REGISTER(nn) {
  // conv2d(x[N,C,H,W], w[O,C/g,kh,kw], b?, stride = 1, padding = 0 | "same" | "valid", dilation = 1, groups = 1)
  def("conv2d", "tensor, tensor, tensor?, ints?, ints|string?, ints?, int? -> tensor", [](Args& a) {
    auto stride = pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{1});
    auto dilation = pair(a.has(5) ? a.ints(5) : std::vector<int64_t>{1});
    int64_t groups = a.integerOr(6, 1);
    if (a.isString(4)) return at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), stride, a.string(4), dilation, groups);
    auto padding = pair(a.has(4) ? a.ints(4) : std::vector<int64_t>{0});
    return at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), stride, padding, dilation, groups);
  });
  // convTranspose2d(x, w[C,O/g,kh,kw], b?, stride = 1, padding = 0, outputPadding = 0, groups = 1, dilation = 1)
  def("convTranspose2d", "tensor, tensor, tensor?, ints?, ints?, ints?, int?, ints? -> tensor", [](Args& a) {
    auto stride = pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{1});
    auto padding = pair(a.has(4) ? a.ints(4) : std::vector<int64_t>{0});
    auto outputPadding = pair(a.has(5) ? a.ints(5) : std::vector<int64_t>{0});
    auto dilation = pair(a.has(7) ? a.ints(7) : std::vector<int64_t>{1});
    return at::conv_transpose2d(a.tensor(0), a.tensor(1), a.optTensor(2), stride, padding, outputPadding, a.integerOr(6, 1), dilation);
  });
  // maxPool2d(x, kernel, stride = kernel, padding = 0, dilation = 1, ceilMode = false)
  def("maxPool2d", "tensor, ints, ints?, ints?, ints?, bool? -> tensor", [](Args& a) {
    auto kernel = pair(a.ints(1));
    auto stride = a.has(2) ? pair(a.ints(2)) : kernel;
    auto padding = pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{0});
    auto dilation = pair(a.has(4) ? a.ints(4) : std::vector<int64_t>{1});
    return at::max_pool2d(a.tensor(0), kernel, stride, padding, dilation, a.booleanOr(5, false));
  });
  // avgPool2d(x, kernel, stride = kernel, padding = 0, ceilMode = false, countIncludePad = true)
  def("avgPool2d", "tensor, ints, ints?, ints?, bool?, bool? -> tensor", [](Args& a) {
    auto kernel = pair(a.ints(1));
    auto stride = a.has(2) ? pair(a.ints(2)) : kernel;
    auto padding = pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{0});
    return at::avg_pool2d(a.tensor(0), kernel, stride, padding, a.booleanOr(4, false), a.booleanOr(5, true));
  });
  def("adaptiveAvgPool2d", "tensor, ints -> tensor", [](Args& a) { return at::adaptive_avg_pool2d(a.tensor(0), pair(a.ints(1))); });
  def("adaptiveMaxPool2d", "tensor, ints -> tensor", [](Args& a) { return std::get<0>(at::adaptive_max_pool2d(a.tensor(0), pair(a.ints(1)))); });

  // batchNorm(x, weight?, bias?, runningMean?, runningVar?, training, momentum = 0.1, eps = 1e-5):
  // in training the running statistics are updated in place, as torch.nn.functional.batch_norm.
  def("batchNorm", "tensor, tensor?, tensor?, tensor?, tensor?, bool, number?, number? -> tensor", [](Args& a) {
    return at::batch_norm(a.tensor(0), a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4), a.boolean(5),
                          a.numberOr(6, 0.1), a.numberOr(7, 1e-5), /*cudnn_enabled=*/true);
  });
  // layerNorm(x, normalizedShape, weight?, bias?, eps = 1e-5)
  def("layerNorm", "tensor, ints, tensor?, tensor?, number? -> tensor", [](Args& a) {
    return at::layer_norm(a.tensor(0), a.ints(1), a.optTensor(2), a.optTensor(3), a.numberOr(4, 1e-5), true);
  });
  // groupNorm(x, groups, weight?, bias?, eps = 1e-5)
  def("groupNorm", "tensor, int, tensor?, tensor?, number? -> tensor", [](Args& a) {
    return at::group_norm(a.tensor(0), a.integer(1), a.optTensor(2), a.optTensor(3), a.numberOr(4, 1e-5), true);
  });
  // dropout(x, p, training)
  def("dropout", "tensor, number, bool -> tensor", [](Args& a) {
    double p = a.number(1);
    TORCH_CHECK(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, got ", p);
    return at::dropout(a.tensor(0), p, a.boolean(2));
  });
  def("softmax", "tensor, int, dtype? -> tensor", [](Args& a) { return at::softmax(a.tensor(0), a.integer(1), a.optDtype(2)); });
  def("logSoftmax", "tensor, int, dtype? -> tensor", [](Args& a) { return at::log_softmax(a.tensor(0), a.integer(1), a.optDtype(2)); });

  // interpolate(x[N,C,H,W], size[2], mode = "bilinear"|"bicubic"|"nearest", alignCorners = false)
  def("interpolate", "tensor, ints, string?, bool? -> tensor", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    auto size = pair(a.ints(1));
    std::string mode = a.stringOr(2, "bilinear");
    bool align = a.booleanOr(3, false);
    TORCH_CHECK(x.dim() == 4, "interpolate expects a 4-D input [N, C, H, W], got ", x.dim(), "-D");
    if (mode == "bilinear") return at::upsample_bilinear2d(x, size, align, c10::nullopt, c10::nullopt);
    if (mode == "bicubic") return at::upsample_bicubic2d(x, size, align, c10::nullopt, c10::nullopt);
    if (mode == "nearest") return at::upsample_nearest2d(x, size, c10::nullopt, c10::nullopt);
    throw ArgError("argument 2: unknown mode '" + mode + "' (expected bilinear, bicubic or nearest)");
  });
  // pad(x, [left, right, top, bottom, ...], mode = "constant"|"reflect"|"replicate", value = 0)
  def("pad", "tensor, ints, string?, scalar? -> tensor", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    std::vector<int64_t> pads = a.ints(1);
    std::string mode = a.stringOr(2, "constant");
    if (mode == "constant") return at::constant_pad_nd(x, pads, a.scalarOr(3, 0.0));
    TORCH_CHECK(pads.size() == 4 && (x.dim() == 3 || x.dim() == 4), mode, " padding needs 4 pads and a 3-D or 4-D input");
    if (mode == "reflect") return at::reflection_pad2d(x, pads);
    if (mode == "replicate") return at::replication_pad2d(x, pads);
    throw ArgError("argument 2: unknown mode '" + mode + "' (expected constant, reflect or replicate)");
  });
  // unfold(x[N,C,H,W], kernel, dilation = 1, padding = 0, stride = 1) -> [N, C*kh*kw, L] (im2col)
  def("unfold", "tensor, ints, ints?, ints?, ints? -> tensor", [](Args& a) {
    return at::im2col(a.tensor(0), pair(a.ints(1)), pair(a.has(2) ? a.ints(2) : std::vector<int64_t>{1}),
                      pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{0}), pair(a.has(4) ? a.ints(4) : std::vector<int64_t>{1}));
  });
  // fold(x[N, C*kh*kw, L], outputSize, kernel, dilation = 1, padding = 0, stride = 1) -> [N, C, H, W] (col2im)
  def("fold", "tensor, ints, ints, ints?, ints?, ints? -> tensor", [](Args& a) {
    return at::col2im(a.tensor(0), pair(a.ints(1)), pair(a.ints(2)), pair(a.has(3) ? a.ints(3) : std::vector<int64_t>{1}),
                      pair(a.has(4) ? a.ints(4) : std::vector<int64_t>{0}), pair(a.has(5) ? a.ints(5) : std::vector<int64_t>{1}));
  });
  def("pixelShuffle", "tensor, int -> tensor", [](Args& a) { return at::pixel_shuffle(a.tensor(0), a.integer(1)); });
}

}  // namespace selfsup
