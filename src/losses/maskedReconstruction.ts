/**
 * MAE's reconstruction loss (He et al., 2022, Sec. 3 "Reconstruction target"): the mean squared
 * error between predicted and true pixels of each patch, averaged over the masked patches only.
 * With `normalizePixels` (the paper's better-performing variant, `norm_pix_loss`) the target
 * patch is first standardised by its own mean and (unbiased) variance, eps 1e-6.
 * SimMIM's (Xie et al., 2022, Sec. 3.4) is the same average of the absolute error (`distance:
 * 'absolute'`, its L1) on raw pixels.
 *
 * ```ts
 * const loss = maskedReconstructionLoss(pred, patchify(images, 4), mask, { normalizePixels: true });
 * const l1 = maskedReconstructionLoss(pred, patchify(images, 8), mask, { distance: 'absolute' });  // SimMIM
 * ```
 */
import type { Tensor } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export interface ReconstructionLossOptions {
  /** standardise each target patch first (MAE's norm_pix_loss; default false) */
  normalizePixels?: boolean;
  /** per pixel: the squared error (MAE, default) or the absolute error (SimMIM) */
  distance?: 'squared' | 'absolute';
}

export function maskedReconstructionLoss(pred: Tensor, target: Tensor, mask: Tensor, o: ReconstructionLossOptions = {}): Tensor {
  if (pred.ndim !== 3 || pred.shape.join() !== target.shape.join() || mask.shape.join() !== pred.shape.slice(0, 2).join()) {
    throw new Error(`maskedReconstructionLoss: expected pred and target [B, N, D] and mask [B, N], got [${pred.shape.join(', ')}], [${target.shape.join(', ')}], [${mask.shape.join(', ')}]`);
  }
  return inFloat32((f) => {
    let t = f(target.detach());
    if (o.normalizePixels) t = t.sub(t.mean(-1, true)).div(t.var(-1, true, true).add(1e-6).sqrt());
    const error = f(pred).sub(t);
    const perPatch = (o.distance === 'absolute' ? error.abs() : error.square()).mean(-1); // [B, N]
    const weights = mask.float();
    return perPatch.mul(weights).sum().div(weights.sum());
  });
}
