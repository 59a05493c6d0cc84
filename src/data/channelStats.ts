/**
 * Per-channel mean and standard deviation of a data set's pixels in [0, 1] (what Normalize
 * needs), measured on up to `limit` images spread over the set; grayscale images give the same
 * value for all three channels.
 *
 * ```ts
 * const { mean, std } = channelStats(cifarTrain);   // about [0.491, 0.482, 0.447], [0.247, 0.243, 0.262]
 * ```
 */
import { tidy } from '../tensor/index.js';
import type { ImageArray } from './imageArray.js';
import { gatherImages } from './viewBatch.js';

export function channelStats(images: ImageArray, limit = 10_000): { mean: number[]; std: number[] } {
  const indices = images.spread(limit);
  return tidy(() => {
    const x = gatherImages(images, indices).double().div(255).transpose(0, 1).flatten(1); // [C, N*H*W]
    const mean = x.mean(1).toArray() as number[];
    const std = x.std(1, false).toArray() as number[];
    return images.channels === 1 ? { mean: [mean[0], mean[0], mean[0]], std: [std[0], std[0], std[0]] } : { mean, std };
  });
}
