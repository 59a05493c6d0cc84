/**
 * Progressive resizing: the views start smaller than their own size and grow to it over the run,
 * so that the early steps, at a fraction of the cost, see more images (fast.ai's DAWNBench ImageNet
 * runs; FFCV's ResNet recipes: Leclerc et al., CVPR 2023). The side grows linearly from `startSize`
 * to the full size between the fractions `from` and `until` of the run (steps of the planned ones,
 * or seconds of a time budget), rounded to a multiple of `multiple` px, so that the engine sees few
 * shapes; the run ends at the full size, the one it is evaluated at (the train/test resolution
 * discrepancy: Touvron et al., NeurIPS 2019). The views are made at full size and resized (bilinear,
 * antialiased) before the step: every view by the same factor (multi-crop's local views too).
 *
 * ```ts
 * const schedule = { startSize: 24, from: 0, until: 0.5 };
 * scheduledSide(schedule, 32, 0.25);    // 28: 24 + (32 - 24) x 0.5
 * resizeViews(batch.views, 28, 32);      // float32 [B, 3, 32, 32] each -> [B, 3, 28, 28]
 * ```
 */
import type { Tensor } from '../tensor/index.js';
import { resize } from '../transforms/index.js';

export interface ResolutionSchedule {
  /** the views' side at the start, in pixels (below their own size) */
  startSize: number;
  /** the fraction of the run where the growth starts (default 0) */
  from?: number;
  /** the fraction of the run where the views reach their own size (default 0.75) */
  until?: number;
  /** sides are multiples of this many pixels (default 4) */
  multiple?: number;
}

/** Refuses a schedule that cannot work for views of side `fullSize`, naming what is wrong. */
export function checkResolutionSchedule(s: ResolutionSchedule, fullSize: number): void {
  const multiple = s.multiple ?? 4;
  if (!(Number.isInteger(multiple) && multiple > 0)) throw new Error(`resolution schedule: multiple must be a positive integer, got ${multiple}`);
  if (!(Number.isInteger(s.startSize) && s.startSize >= multiple && s.startSize < fullSize)) {
    throw new Error(`resolution schedule: startSize must be a whole number of pixels from ${multiple} to below the views' side ${fullSize}, got ${s.startSize}`);
  }
  const [from, until] = [s.from ?? 0, s.until ?? 0.75];
  if (!(from >= 0 && until > from && until <= 1)) throw new Error(`resolution schedule: expected 0 <= from < until <= 1 (fractions of the run), got from ${from}, until ${until}`);
}

/** The views' side at `fraction` of the run (0 to 1): startSize until `from`, the full size from `until`. */
export function scheduledSide(s: ResolutionSchedule, fullSize: number, fraction: number): number {
  const [from, until, multiple] = [s.from ?? 0, s.until ?? 0.75, s.multiple ?? 4];
  const progress = Math.min(1, Math.max(0, (fraction - from) / (until - from)));
  const side = Math.round((s.startSize + (fullSize - s.startSize) * progress) / multiple) * multiple;
  return Math.min(fullSize, Math.max(multiple, side));
}

/** Every view (float [B, C, s_i, s_i]) resized by side / fullSize: [B, C, round(s_i x side / fullSize), ...]. */
export function resizeViews(views: Tensor[], side: number, fullSize: number): Tensor[] {
  if (side === fullSize) return views;
  return views.map((v) => {
    const target = Math.max(1, Math.round((v.size(2) * side) / fullSize));
    return resize(v, [target, target], 'bilinear', true);
  });
}
