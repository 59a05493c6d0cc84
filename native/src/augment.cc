// Batched image augmentation kernels that differ per sample: each sample of a batch is cropped to its
// own box and resized to one output size, in parallel over samples (libtorch's resampling kernels).
#include <ATen/Parallel.h>

#include "common.h"

namespace selfsup {
namespace {

at::Tensor resizeOne(const at::Tensor& crop, at::IntArrayRef size, const std::string& mode, bool antialias) {
  // crop: float [1, C, h, w] -> [1, C, size[0], size[1]]
  if (mode == "bilinear") {
    return antialias ? at::_upsample_bilinear2d_aa(crop, size, false, c10::nullopt, c10::nullopt)
                     : at::upsample_bilinear2d(crop, size, false, c10::nullopt, c10::nullopt);
  }
  if (mode == "bicubic") {
    return antialias ? at::_upsample_bicubic2d_aa(crop, size, false, c10::nullopt, c10::nullopt)
                     : at::upsample_bicubic2d(crop, size, false, c10::nullopt, c10::nullopt);
  }
  return at::upsample_nearest2d(crop, size, c10::nullopt, c10::nullopt);
}

}  // namespace

SELFSUP_REGISTER(augment) {
  // resizedCrops(x[B,C,H,W] uint8|float, boxes int64[B,4] (top, left, height, width), size[2],
  //              mode = "bilinear"|"bicubic"|"nearest", antialias = true) -> float32 [B, C, size0, size1]
  // As torchvision's F.resized_crop on each sample (uint8 values stay on the 0..255 scale, unrounded).
  def("resizedCrops", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    at::Tensor boxes = a.tensor(1).to(at::kLong).contiguous();
    std::vector<int64_t> size = a.ints(2);
    if (size.size() == 1) size.resize(2, size[0]);
    std::string mode = a.stringOr(3, "bilinear");
    bool antialias = a.booleanOr(4, true);
    TORCH_CHECK(x.dim() == 4, "resizedCrops expects images [B, C, H, W], got ", x.dim(), "-D");
    TORCH_CHECK(x.scalar_type() == at::kByte || at::isFloatingType(x.scalar_type()), "resizedCrops expects uint8 or float images, got ", x.scalar_type());
    TORCH_CHECK(boxes.dim() == 2 && boxes.size(0) == x.size(0) && boxes.size(1) == 4, "boxes must be [", x.size(0), ", 4] (top, left, height, width), got ", boxes.sizes());
    TORCH_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0, "size must be one or two positive integers");
    if (mode != "bilinear" && mode != "bicubic" && mode != "nearest") {
      throw ArgError("argument 3: unknown mode '" + mode + "' (expected bilinear, bicubic or nearest)");
    }
    const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
    const int64_t* box = boxes.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; b++) {
      const int64_t* r = box + 4 * b;
      TORCH_CHECK(r[0] >= 0 && r[1] >= 0 && r[2] > 0 && r[3] > 0 && r[0] + r[2] <= H && r[1] + r[3] <= W, "box ", b, " (top ",
                  r[0], ", left ", r[1], ", height ", r[2], ", width ", r[3], ") is not inside the ", H, "x", W, " image");
    }
    at::ScalarType outType = x.scalar_type() == at::kByte ? at::kFloat : x.scalar_type();
    at::Tensor out = at::empty({B, x.size(1), size[0], size[1]}, x.options().dtype(outType));
    // One sample per task: libtorch runs ops inside a parallel region on the calling thread.
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; b++) {
        const int64_t* r = box + 4 * b;
        at::Tensor crop = x.narrow(0, b, 1).narrow(2, r[0], r[2]).narrow(3, r[1], r[3]).to(outType);
        out.narrow(0, b, 1).copy_(resizeOne(crop, size, mode, antialias));
      }
    });
    return out;
  });
}

}  // namespace selfsup
