/**
 * Colours for pictures of scalar maps (attention, similarity): a jet-like colour map from blue (0)
 * through green to red (1), and heat maps laid over images.
 *
 * ```ts
 * const picture = overlayHeatmap(images, maps, 0.5);   // [B, 3, H, W] images in [0, 1], maps [B, 1, H, W] in [0, 1]
 * ```
 */
import { type Tensor, cat, tidy } from '../tensor/index.js';

/** [B, 1, H, W] values in [0, 1] -> [B, 3, H, W] colours in [0, 1]: each channel a tent 1.5 - |4v - c| (c = 3, 2, 1). */
export function heatmapColors(values: Tensor): Tensor {
  return tidy(() => {
    const v = values.clamp(0, 1).mul(4);
    return cat([3, 2, 1].map((centre) => v.sub(centre).abs().neg().add(1.5).clamp(0, 1)), 1);
  });
}

/** images [B, 3, H, W] in [0, 1] blended with the heat map of maps [B, 1, H, W]: (1 - alpha) image + alpha colour. */
export function overlayHeatmap(images: Tensor, maps: Tensor, alpha = 0.5): Tensor {
  return tidy(() => images.mul(1 - alpha).add(heatmapColors(maps).mul(alpha)));
}
