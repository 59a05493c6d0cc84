/**
 * Barlow Twins (Zbontar et al., 2021, Eq. 1): the cross-correlation matrix C of the two views'
 * embeddings, each dimension standardised over the batch, is pushed towards the identity:
 *   L = sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2,   lambda = 5e-3.
 *
 * ```ts
 * const loss = barlowTwinsLoss(z1, z2);   // [N, D] each
 * ```
 */
import { type Tensor, eye } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

/** Each column standardised over the batch (batch norm without affine: biased variance, eps 1e-5). */
function standardise(z: Tensor): Tensor {
  return z.sub(z.mean(0, true)).div(z.var(0, false, true).add(1e-5).sqrt());
}

export function barlowTwinsLoss(z1: Tensor, z2: Tensor, lambda = 5e-3): Tensor {
  if (z1.ndim !== 2 || z1.shape.join() !== z2.shape.join()) {
    throw new Error(`barlowTwinsLoss: expected two embeddings [N, D] of one shape, got [${z1.shape.join(', ')}] and [${z2.shape.join(', ')}]`);
  }
  return inFloat32((f) => {
    const n = z1.size(0);
    const c = standardise(f(z1)).T.matmul(standardise(f(z2))).div(n);   // [D, D]
    const identity = eye(c.size(0), c.size(0), { dtype: 'bool' });
    const onDiagonal = c.diagonal().rsub(1).square().sum();
    const offDiagonal = c.maskedFill(identity, 0).square().sum();
    return onDiagonal.add(offDiagonal.mul(lambda));
  });
}
