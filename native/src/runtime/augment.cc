// Batched image augmentation kernels that differ per sample: each sample of a batch is cropped to its
// own box and resized to one output size, in parallel over samples (libtorch's resampling kernels).
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

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

template <typename T>
T clamp01(T v) {
  return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
}

/** ITU-R 601-2 luma, as torchvision's rgb_to_grayscale. */
template <typename T>
T luma(T r, T g, T b) {
  return T(0.2989) * r + T(0.587) * g + T(0.114) * b;
}

/** torchvision's _blend: (f * v + (1 - f) * other) clamped to [0, 1]. */
template <typename T>
T blend(T v, T other, T f, T oneMinusF) {
  return clamp01(f * v + oneMinusF * other);
}

/** One pixel's hue rotated by `shift`: torchvision's _rgb2hsv, (h + shift) % 1, _hsv2rgb. */
template <typename T>
void rotateHue(T& r, T& g, T& b, T shift) {
  T maxc = std::max(r, std::max(g, b));
  T minc = std::min(r, std::min(g, b));
  bool flat = maxc == minc;
  T range = maxc - minc;
  T s = range / (flat ? T(1) : maxc);
  T divisor = flat ? T(1) : range;
  T rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  T h = maxc == r ? bc - gc : (maxc == g ? T(2) + rc - bc : T(4) + gc - rc);
  // fmod(h / 6 + 1, 1) and Python's (h + shift) % 1, without libm calls (both exact here).
  h = h / T(6) + T(1);
  if (h >= T(1)) h -= T(1);
  h = h + shift;
  if (h >= T(1)) h -= T(1);
  else if (h < T(0)) h += T(1);
  T v = maxc;
  int sextant = static_cast<int>(h * T(6));  // floor, h >= 0
  T f = h * T(6) - static_cast<T>(sextant);
  if (sextant > 5) sextant -= 6;
  T p = clamp01(v * (T(1) - s));
  T q = clamp01(v * (T(1) - s * f));
  T t = clamp01(v * (T(1) - s * (T(1) - f)));
  // torchvision's table of (r, g, b) per sextant, indexed rather than branched on.
  const T choices[6] = {v, q, p, p, t, v};
  r = choices[sextant];
  g = choices[(sextant + 4) % 6];
  b = choices[(sextant + 2) % 6];
}

/** Applies the adjustments of `order` (0 brightness, 1 contrast, 2 saturation, 3 hue; -1 ends) to one RGB image,
 * then, when `grey`, replaces it by its luma in all three channels (torchvision's Grayscale(3)). */
template <typename T>
void jitterImage(T* rp, T* gp, T* bp, int64_t n, const double* factor, const int64_t* order, bool grey) {
  for (int stage = 0; stage < 4 && order[stage] >= 0; stage++) {
    int64_t op = order[stage];
    T f = static_cast<T>(factor[op]);
    T oneMinusF = static_cast<T>(1.0 - factor[op]);
    if (op == 0) {
      for (int64_t k = 0; k < n; k++) {
        rp[k] = clamp01(rp[k] * f);
        gp[k] = clamp01(gp[k] * f);
        bp[k] = clamp01(bp[k] * f);
      }
    } else if (op == 1) {
      double sum = 0;
      for (int64_t k = 0; k < n; k++) sum += luma(rp[k], gp[k], bp[k]);
      T mean = static_cast<T>(sum / static_cast<double>(n));
      for (int64_t k = 0; k < n; k++) {
        rp[k] = blend(rp[k], mean, f, oneMinusF);
        gp[k] = blend(gp[k], mean, f, oneMinusF);
        bp[k] = blend(bp[k], mean, f, oneMinusF);
      }
    } else if (op == 2) {
      for (int64_t k = 0; k < n; k++) {
        T grey = luma(rp[k], gp[k], bp[k]);
        rp[k] = blend(rp[k], grey, f, oneMinusF);
        gp[k] = blend(gp[k], grey, f, oneMinusF);
        bp[k] = blend(bp[k], grey, f, oneMinusF);
      }
    } else {
      for (int64_t k = 0; k < n; k++) rotateHue(rp[k], gp[k], bp[k], f);
    }
  }
  if (grey) {
    for (int64_t k = 0; k < n; k++) rp[k] = gp[k] = bp[k] = luma(rp[k], gp[k], bp[k]);
  }
}

}  // namespace

SELFSUP_REGISTER(augment) {
  // colorJitter(x float [B,3,H,W] in [0,1], factors float64 [B,4], order int64 [B,4], grey? bool [B]) -> a new
  // tensor: image b gets adjustments order[b][0..] (0 brightness, 1 contrast, 2 saturation, 3 hue; -1 ends the
  // list) with factors[b][adjustment], by torchvision's formulas, then becomes grey where grey[b]; one pass
  // per adjustment, in cache.
  // (A CPU kernel: images on another device go through a CPU copy and come back.)
  def("colorJitter", "tensor, tensor, tensor, tensor? -> tensor", [](Args& a) {
    const at::Tensor x = a.tensor(0).cpu();
    at::Tensor factors = a.tensor(1).cpu().to(at::kDouble).contiguous();
    at::Tensor order = a.tensor(2).cpu().to(at::kLong).contiguous();
    TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "colorJitter expects RGB images [B, 3, H, W], got ", x.sizes());
    TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble, "colorJitter expects float images in [0, 1], got ", x.scalar_type());
    const int64_t B = x.size(0);
    TORCH_CHECK(factors.dim() == 2 && factors.size(0) == B && factors.size(1) == 4, "factors must be [", B, ", 4], got ", factors.sizes());
    TORCH_CHECK(order.dim() == 2 && order.size(0) == B && order.size(1) == 4, "order must be [", B, ", 4], got ", order.sizes());
    at::Tensor grey = a.has(3) ? a.tensor(3).cpu().to(at::kBool).contiguous() : at::zeros({B}, at::kBool);
    TORCH_CHECK(grey.dim() == 1 && grey.size(0) == B, "grey must be [", B, "], got ", grey.sizes());
    const bool* greyFlags = grey.data_ptr<bool>();
    const int64_t* ord = order.data_ptr<int64_t>();
    for (int64_t k = 0; k < 4 * B; k++) TORCH_CHECK(ord[k] >= -1 && ord[k] <= 3, "order values must be -1..3, got ", ord[k]);
    at::Tensor out = x.contiguous().clone();
    const int64_t n = x.size(2) * x.size(3);
    const double* fac = factors.data_ptr<double>();
    AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "colorJitter", [&] {
      scalar_t* base = out.data_ptr<scalar_t>();
      at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; b++) {
          scalar_t* img = base + b * 3 * n;
          jitterImage<scalar_t>(img, img + n, img + 2 * n, n, fac + 4 * b, ord + 4 * b, greyFlags[b]);
        }
      });
    });
    return out.to(a.tensor(0).device());
  });

  // resizedCrops(x[B,C,H,W] uint8|float, boxes int64[B,4] (top, left, height, width), size[2],
  //              mode = "bilinear"|"bicubic"|"nearest", antialias = true, flips? bool[B]) -> float32 [B, C, size0, size1]
  // As torchvision's F.resized_crop on each sample (uint8 values stay on the 0..255 scale, unrounded),
  // then F.hflip on the samples whose flips[b] is true.
  def("resizedCrops", "tensor, tensor, ints, string?, bool?, tensor? -> tensor", [](Args& a) {
    const at::Tensor& x = a.tensor(0);
    at::Tensor boxes = a.tensor(1).cpu().to(at::kLong).contiguous();
    std::vector<int64_t> size = a.ints(2);
    if (size.size() == 1) size.resize(2, size[0]);
    std::string mode = a.stringOr(3, "bilinear");
    bool antialias = a.booleanOr(4, true);
    at::Tensor flips = a.has(5) ? a.tensor(5).cpu().to(at::kBool).contiguous() : at::zeros({x.size(0)}, at::kBool);
    TORCH_CHECK(flips.dim() == 1 && flips.size(0) == x.size(0), "flips must be [", x.size(0), "], got ", flips.sizes());
    TORCH_CHECK(x.dim() == 4, "resizedCrops expects images [B, C, H, W], got ", x.dim(), "-D");
    TORCH_CHECK(x.scalar_type() == at::kByte || at::isFloatingType(x.scalar_type()), "resizedCrops expects uint8 or float images, got ", x.scalar_type());
    TORCH_CHECK(boxes.dim() == 2 && boxes.size(0) == x.size(0) && boxes.size(1) == 4, "boxes must be [", x.size(0), ", 4] (top, left, height, width), got ", boxes.sizes());
    TORCH_CHECK(size.size() == 2 && size[0] > 0 && size[1] > 0, "size must be one or two positive integers");
    if (mode != "bilinear" && mode != "bicubic" && mode != "nearest") {
      throw ArgError("argument 3: unknown mode '" + mode + "' (expected bilinear, bicubic or nearest)");
    }
    const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
    const int64_t* box = boxes.data_ptr<int64_t>();
    const bool* flip = flips.data_ptr<bool>();
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
        at::Tensor resized = resizeOne(crop, size, mode, antialias);
        out.narrow(0, b, 1).copy_(flip[b] ? resized.flip(3) : resized);
      }
    });
    return out;
  });
}

}  // namespace selfsup
