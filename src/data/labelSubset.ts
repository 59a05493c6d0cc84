/**
 * The low-label setting (SimCLR, Chen et al., 2020, Sec. 6 / Table 7: 1% and 10% of ImageNet's
 * labels): a seeded, class-balanced subset of a labelled data set, each class keeping the same
 * fraction of its images (rounded, at least one), drawn by a seeded permutation so the same seed
 * always gives the same subset.
 *
 * ```ts
 * const tenPercent = train.subset(labelSubset(train, 0.1, 0));
 * ```
 */
import { Generator, randperm, tidy } from '../tensor/index.js';
import type { ImageSet } from './streamedImages.js';

/** Sorted indices of the kept images. */
export function labelSubset(images: ImageSet, fraction: number, seed = 0): number[] {
  if (!images.labels) throw new Error('labelSubset: the images have no labels');
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`labelSubset: the fraction of labels must be in (0, 1], got ${fraction}`);
  const order = tidy(() => randperm(images.length, { generator: new Generator(seed) }).toArray() as number[]);
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const label = images.labels[i];
    if (!byClass.has(label)) byClass.set(label, []);
    byClass.get(label)!.push(i);
  }
  const kept: number[] = [];
  for (const members of byClass.values()) kept.push(...members.slice(0, Math.max(1, Math.round(fraction * members.length))));
  return kept.sort((a, b) => a - b);
}
