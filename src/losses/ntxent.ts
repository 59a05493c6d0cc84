/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al., 2020, Eq. 1):
 * for the 2N embeddings of N images seen twice, each one's positive is the other view of its
 * image and its 2N - 2 negatives are every other embedding of the batch:
 *   l(i, j) = -log( exp(sim(z_i, z_j) / t) / sum_{k != i} exp(sim(z_i, z_k) / t) ),
 * averaged over all 2N anchors, sim = cosine similarity.
 *
 * ```ts
 * const loss = ntXentLoss(head.forward(backbone.forward(a)), head.forward(backbone.forward(b)), 0.5);
 * ```
 */
import { type Tensor, arange, cat, crossEntropy, eye, normalize, tidy } from '../tensor/index.js';

export function ntXentLoss(z1: Tensor, z2: Tensor, temperature = 0.5): Tensor {
  if (z1.ndim !== 2 || z1.shape.join() !== z2.shape.join()) {
    throw new Error(`ntXentLoss: expected two embeddings [N, D] of the same shape, got [${z1.shape.join(', ')}] and [${z2.shape.join(', ')}]`);
  }
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature must be positive, got ${temperature}`);
  const n = z1.size(0);
  return tidy(() => {
    const z = normalize(cat([z1, z2], 0), { dim: 1 });                       // [2N, D], unit rows
    const logits = z.matmul(z.T).div(temperature);                          // [2N, 2N]
    const self = eye(2 * n, 2 * n, { dtype: 'bool' });
    const masked = logits.maskedFill(self, -Infinity);                        // an anchor is not its own negative
    const positives = arange(2 * n, undefined, 1, { dtype: 'int64' }).add(n).remainder(2 * n); // i <-> i + N
    return crossEntropy(masked, positives);
  });
}
