/**
 * VICReg (Bardes et al., 2022, Eqs. 1-6): invariance (mean squared distance between the views'
 * embeddings), variance (a hinge keeping each dimension's std over the batch above gamma = 1,
 * std = sqrt(var + 1e-4)) and covariance (the squared off-diagonal covariances, divided by d), as
 * the official implementation weighs them: L = 25 inv + 25 (v(z1) + v(z2)) / 2 + 1 (c(z1) + c(z2)).
 *
 * ```ts
 * const { loss, invariance, variance, covariance } = vicregLoss(z1, z2);
 * ```
 */
import { type Tensor, eye, mseLoss } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export interface VicregWeights { invariance?: number; variance?: number; covariance?: number }

function varianceTerm(z: Tensor): Tensor {
  return z.var(0, true).add(1e-4).sqrt().rsub(1).relu().mean();           // mean_j max(0, 1 - std_j)
}

function covarianceTerm(z: Tensor): Tensor {
  const n = z.size(0);
  const d = z.size(1);
  const centred = z.sub(z.mean(0, true));
  const cov = centred.T.matmul(centred).div(n - 1);                         // [D, D]
  return cov.maskedFill(eye(d, d, { dtype: 'bool' }), 0).square().sum().div(d);
}

export function vicregLoss(z1: Tensor, z2: Tensor, w: VicregWeights = {}): { loss: Tensor; invariance: Tensor; variance: Tensor; covariance: Tensor } {
  if (z1.ndim !== 2 || z1.shape.join() !== z2.shape.join() || z1.size(0) < 2) {
    throw new Error(`vicregLoss: expected two embeddings [N >= 2, D] of one shape, got [${z1.shape.join(', ')}] and [${z2.shape.join(', ')}]`);
  }
  return inFloat32((f) => {
    const [a, b] = [f(z1), f(z2)];
    const invariance = mseLoss(a, b);
    const variance = varianceTerm(a).add(varianceTerm(b)).div(2);
    const covariance = covarianceTerm(a).add(covarianceTerm(b));
    const loss = invariance.mul(w.invariance ?? 25).add(variance.mul(w.variance ?? 25)).add(covariance.mul(w.covariance ?? 1));
    return { loss, invariance, variance, covariance };
  });
}
