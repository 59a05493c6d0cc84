/**
 * Uniform draws in [0, 1) from an engine {@link Generator}, fetched 4096 at a time, for the
 * per-sample parameters of transforms (crop boxes, jitter factors, orders) that are chosen on
 * the host, as torchvision draws them image by image with torch's generator.
 *
 * ```ts
 * const uniform = uniformStream(new Generator(0));
 * const scale = 0.08 + (1 - 0.08) * uniform();
 * ```
 */
import { type Generator, rand, tidy } from '../tensor/index.js';

export function uniformStream(generator?: Generator): () => number {
  let buffer: ArrayLike<number> = [];
  let next = 0;
  return () => {
    if (next === buffer.length) {
      buffer = tidy(() => rand([4096], { dtype: 'float64', generator }).data<Float64Array>());
      next = 0;
    }
    return buffer[next++];
  };
}

/** A uniform draw in [low, high). */
export function between(uniform: () => number, low: number, high: number): number {
  return low + (high - low) * uniform();
}

/** Uniform draws in [0, 1) from a 32-bit seed on the host alone (mulberry32): cheap independent streams (a photo's crop boxes, a map's layout). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
