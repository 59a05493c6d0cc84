/**
 * How far a batch of distributions is from uniform: the mean entropy of the rows of p [B, K] divided by log K,
 * 1 when every row is uniform (DINO's teacher, or SwAV's codes, telling the images apart no more), 0 when one-hot.
 */
import { type Tensor, noGrad, tidy } from '../tensor/index.js';

export function relativeRowEntropy(p: Tensor): number {
  return tidy(() => noGrad(() => p.mul(p.clamp(1e-12).log()).sum(-1).neg().mean().item())) / Math.log(p.size(-1));
}
