/**
 * I-JEPA's loss (Assran et al., 2023, Eq. 1): the predictor's outputs for each target block
 * against the target encoder's representations of its patches (layer-normalised, no gradient),
 * (1 / M) sum_i sum_{j in B_i} ||s_hat_j - s_j||^2, here as the mean over blocks, patches and
 * channels (PyTorch's mse_loss, 'squared', the paper's L2), or the reference code's smooth L1 (beta 1).
 *
 * ```ts
 * const loss = jepaLoss(predictor.forward(context, contextIds, targetIds), targets);   // [M * B, T, D] each
 * ```
 */
import { type Tensor, mseLoss, smoothL1Loss } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export function jepaLoss(pred: Tensor, target: Tensor, distance: 'squared' | 'smoothL1' = 'squared'): Tensor {
  if (pred.ndim !== 3 || pred.shape.join() !== target.shape.join()) {
    throw new Error(`jepaLoss: expected predictions and targets of one shape [M * B, T, D], got [${pred.shape.join(', ')}] and [${target.shape.join(', ')}]`);
  }
  return inFloat32((f) => (distance === 'squared' ? mseLoss(f(pred), f(target.detach())) : smoothL1Loss(f(pred), f(target.detach()))));
}
