/**
 * Where a ViT looks: the [CLS] token's attention to the patches in the last block, one map per
 * head, the picture of DINO's emergent segmentation (Caron et al., 2021, Fig. 1 and 3). Each map is
 * stretched to [0, 1] (its minimum to 0, its maximum to 1, as an auto-scaled colour map shows it) and
 * upsampled (nearest) to the image. `attentionMassMask` keeps
 * the most attended patches that hold a share of the attention (DINO keeps 60%, Fig. 3).
 *
 * ```ts
 * const maps = clsAttentionMaps(vit, images);                        // [B, heads, H, W] in [0, 1]
 * const mask = attentionMassMask(clsAttention(vit, images).mean(1, true), 0.6); // [B, 1, h, w], 1 where kept
 * ```
 */
import type { VisionTransformer } from '../models/index.js';
import { type Tensor, interpolate, noGrad, tidy } from '../tensor/index.js';

/** The raw [CLS] attention to each patch: images [B, 3, H, W], normalised as in training (sides multiples of the patch size) -> [B, heads, h, w]. */
export function clsAttention(vit: VisionTransformer, images: Tensor): Tensor {
  const [b, , height, width] = images.shape;
  const [h, w] = [height / vit.patchSize, width / vit.patchSize];
  if (!Number.isInteger(h) || !Number.isInteger(w)) throw new Error(`attention maps: the image side ${height}x${width} is not a multiple of the patch size ${vit.patchSize}`);
  return tidy(() => noGrad(() => {
    const attention = vit.lastAttention(images);                             // [B, heads, 1 + N, 1 + N]
    return attention.select(2, 0).slice(2, 1).reshape(b, attention.size(1), h, w); // row 0 without its own column
  }));
}

/** Maps [B, C, h, w] stretched to [0, 1] each and upsampled (nearest) to [B, C, H, W]. */
export function stretchToImage(maps: Tensor, size: [number, number]): Tensor {
  return tidy(() => {
    const low = maps.amin([2, 3], true);
    const scaled = maps.sub(low).div(maps.amax([2, 3], true).sub(low).clamp(1e-12));
    return interpolate(scaled.contiguous(), size, 'nearest');
  });
}

/** One stretched map per head over the image: [B, 3, H, W] -> [B, heads, H, W] in [0, 1]. */
export function clsAttentionMaps(vit: VisionTransformer, images: Tensor): Tensor {
  return tidy(() => stretchToImage(clsAttention(vit, images), [images.size(2), images.size(3)]));
}

/** 1 where a pixel is among the most attended that together hold `share` of each map's mass: [B, C, H, W] -> same shape. */
export function attentionMassMask(maps: Tensor, share = 0.6): Tensor {
  if (!(share > 0 && share <= 1)) throw new Error(`attentionMassMask: share must be in (0, 1], got ${share}`);
  return tidy(() => {
    const [b, c, h, w] = maps.shape;
    const flat = maps.reshape(b, c, h * w);
    const [sorted, order] = flat.sort(2, true, true);
    const cumulative = sorted.cumsum(2).div(sorted.sum(2, true).clamp(1e-12)); // [B, C, HW]
    // keep a value while the mass before it is below the share (the first one always)
    const keepSorted = cumulative.sub(sorted.div(sorted.sum(2, true).clamp(1e-12))).lt(share).float();
    return keepSorted.scatter(2, order, keepSorted).reshape(b, c, h, w); // order is a permutation: every pixel is written
  });
}
