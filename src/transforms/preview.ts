/**
 * What a recipe asks the model to be invariant to, as a picture: for each of a few images, the
 * original and every view the view set makes of it (un-normalised), and, for masked image
 * modelling, the first view with its masked patches greyed out.
 *
 * ```ts
 * const columns = previewColumns(images.batch([0, 1, 2, 3]), methodViews('simclr', { size: 32 }), 0);
 * await writePng('views.png', imageGrid(columns));
 * ```
 */
import { Generator, type Tensor, interpolate, tidy, where } from '../tensor/index.js';
import { denormalize } from './colorOps.js';
import { masksFor } from './masking.js';
import type { ViewSet } from './presets.js';
import { type ViewConfig, applyView } from './viewPipeline.js';

/** Undoes a view's normalisation: back to [0, 1]. */
function unnormalize(x: Tensor, view: ViewConfig): Tensor {
  return view.normalize ? denormalize(x, view.normalize.mean, view.normalize.std) : x;
}

/** Columns [N, 3, s, s] in [0, 1]: the originals, each view, and (with masks) the masked first view. */
export function previewColumns(images: Tensor, set: ViewSet, seed: number): Tensor[] {
  return tidy(() => {
    const generator = new Generator(seed);
    const side = set.views[0].size;
    const columns = [applyView(images, { size: side, crop: 'resize' })];
    const views = set.views.map((v) => unnormalize(applyView(images, v, generator), v).clamp(0, 1));
    columns.push(...views);
    if (set.mask) {
      const grid = side / set.mask.patchSize;
      const mask = masksFor(set.mask, images.size(0), side, generator).view(images.size(0), 1, grid, grid).float();
      const pixels = interpolate(mask, [side, side], 'nearest').gt(0.5); // [N, 1, s, s]
      columns.push(where(pixels, 0.5, views[0]));
    }
    return columns;
  });
}
