/**
 * The penalty-reduced pixel-wise focal loss of CenterNet (Zhou et al., 2019, Eq. 1; from CornerNet,
 * Law & Deng, 2018): with p = sigmoid(logits) and a Gaussian-splatted target Y in [0, 1],
 *   L = -1/N sum { (1 - p)^alpha log p            where Y = 1
 *                  (1 - Y)^beta p^alpha log(1 - p)  otherwise },
 * N the number of centres (cells with Y = 1), alpha = 2, beta = 4. Near a centre the negatives are
 * down-weighted by (1 - Y)^beta.
 *
 * ```ts
 * const loss = centerNetFocalLoss(heatmapLogits, targetHeatmap);   // [B, K, h, w] each
 * ```
 */
import { type Tensor, tidy } from '../tensor/index.js';

export function centerNetFocalLoss(logits: Tensor, target: Tensor, o: { alpha?: number; beta?: number } = {}): Tensor {
  if (logits.shape.join() !== target.shape.join()) throw new Error(`centerNetFocalLoss: logits [${logits.shape.join(', ')}] and target [${target.shape.join(', ')}] differ`);
  const [alpha, beta] = [o.alpha ?? 2, o.beta ?? 4];
  return tidy(() => {
    const logP = logits.logSigmoid();          // log p
    const logNotP = logits.neg().logSigmoid(); // log (1 - p)
    const p = logits.sigmoid();
    const positive = target.eq(1).float();
    const positives = p.neg().add(1).pow(alpha).mul(logP).mul(positive);
    const negatives = target.neg().add(1).pow(beta).mul(p.pow(alpha)).mul(logNotP).mul(positive.neg().add(1));
    const count = positive.sum().clamp(1, null);
    return positives.add(negatives).sum().neg().div(count);
  });
}
