/**
 * Geometric invariances beyond the horizontal flip, for data without a canonical orientation
 * (aerial and satellite images, microscopy, many medical scans): vertical flips and rotations by
 * multiples of 90 degrees, chosen per image.
 *
 * ```ts
 * const v = randomRotation90(randomVerticalFlip(views, 0.5, gen), gen);  // square images
 * ```
 */
import { type Generator, type Tensor, tensor, tidy } from '../tensor/index.js';
import { applyRandomly } from './applyRandomly.js';
import { uniformStream } from './uniformStream.js';

export function verticalFlip(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new Error(`verticalFlip: expected images [B, C, H, W], got [${x.shape.join(', ')}]`);
  return x.flip(2);
}
export function randomVerticalFlip(x: Tensor, p = 0.5, generator?: Generator): Tensor {
  return applyRandomly(x, p, verticalFlip, generator);
}

/** Rotates image b by 90 * turns[b] degrees counter-clockwise (torch.rot90 on dims H, W). */
export function rotate90(x: Tensor, turns: number[]): Tensor {
  if (x.ndim !== 4 || x.size(2) !== x.size(3)) throw new Error(`rotate90: expected square images [B, C, S, S], got [${x.shape.join(', ')}]`);
  if (turns.length !== x.size(0)) throw new Error(`rotate90: ${turns.length} turns for ${x.size(0)} images`);
  return tidy(() => {
    let out = x.clone();
    for (let k = 1; k < 4; k++) {
      const members = turns.flatMap((t, b) => (((t % 4) + 4) % 4 === k ? [b] : []));
      if (members.length === 0) continue;
      const index = tensor(members, { dtype: 'int64' });
      // rot90 by k: k = 1 transpose then flip H; k = 2 flip both; k = 3 transpose then flip W.
      const chosen = x.indexSelect(0, index);
      const turned = k === 2 ? chosen.flip([2, 3]) : chosen.transpose(2, 3).flip(k === 1 ? 2 : 3);
      out = out.indexPut([index], turned.contiguous());
    }
    return out;
  });
}

/** Each image rotated by a uniformly drawn 0, 90, 180 or 270 degrees. */
export function randomRotation90(x: Tensor, generator?: Generator): Tensor {
  const uniform = uniformStream(generator);
  return rotate90(x, Array.from({ length: x.size(0) }, () => Math.floor(uniform() * 4)));
}
