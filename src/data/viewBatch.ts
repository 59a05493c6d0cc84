/**
 * One training batch made from images held as uint8 NCHW bytes: gather the images, draw every
 * view of a {@link ViewSet} and its masks with a generator seeded by the batch's own seed. The
 * loader runs this in its worker threads, or in the calling thread with `workers: 0`; the result is
 * the same either way.
 *
 * ```ts
 * const { views, mask } = makeViewBatch(source, indices, methodViews('simclr', { size: 32 }), seed);
 * ```
 */
import { Generator, type MemoryFormat, type Tensor, tensor, tidy } from '../tensor/index.js';
import { type ViewSet, applyView, masksFor } from '../transforms/index.js';

/** Images as one uint8 buffer of N x C x H x W (an ImageArray, or its copy in shared memory). */
export interface PixelSource {
  pixels: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

/** uint8 [B, C, H, W] of the images at `indices`. */
export function gatherImages(source: PixelSource, indices: ArrayLike<number>): Tensor {
  const size = source.channels * source.height * source.width;
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) out.set(source.pixels.subarray(indices[k] * size, (indices[k] + 1) * size), k * size);
  return tensor(out, { shape: [indices.length, source.channels, source.height, source.width] });
}

export interface ViewBatch {
  /** one float32 [B, 3, s, s] per view of the set */
  views: Tensor[];
  /** bool [B, N] when the set asks for masks */
  mask: Tensor | null;
}

/** The views laid out in `memoryFormat` ('channels_last' for a channels_last ResNet; the values are the same either way). */
export function makeViewBatch(source: PixelSource, indices: ArrayLike<number>, set: ViewSet, seed: number, memoryFormat: MemoryFormat = 'contiguous'): ViewBatch {
  return tidy(() => {
    const generator = new Generator(seed);
    const images = gatherImages(source, indices);
    const views = set.views.map((v) => applyView(images, v, generator).contiguous(memoryFormat));
    const mask = set.mask ? masksFor(set.mask, indices.length, set.views[0].size, generator) : null;
    return { views, mask };
  });
}
