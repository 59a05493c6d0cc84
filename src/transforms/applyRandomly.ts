/**
 * Per-sample randomness for batched transforms: each image of [B, C, H, W] gets the
 * transformed version with probability p (one seeded draw per image), as torchvision's
 * Random* wrappers do image by image.
 */
import { type Generator, type Tensor, rand, tidy, where } from '../tensor/index.js';

export function applyRandomly(x: Tensor, p: number, transform: (x: Tensor) => Tensor, generator?: Generator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`probability must be in [0, 1], got ${p}`);
  return tidy(() => {
    const chosen = rand([x.size(0)], { generator }).lt(p).view(x.size(0), 1, 1, 1); // [B, 1, 1, 1]
    return where(chosen, transform(x), x);
  });
}
