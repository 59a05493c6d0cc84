/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al., 2020, Eq. 1):
 * for the 2N embeddings of N images seen twice, each one's positive is the other view of its
 * image and its 2N - 2 negatives are every other embedding of the batch:
 *   l(i, j) = -log( exp(sim(z_i, z_j) / t) / sum_{k != i} exp(sim(z_i, z_k) / t) ),
 * averaged over all 2N anchors, sim = cosine similarity.
 *
 * Across processes (a process group with several ranks, `gatherDistributed` on by default) the
 * negatives are every rank's embeddings: this rank's 2n anchors against the 2N gathered ones, the
 * gradient reaching the other ranks' rows through the all-gather's backward, so the mean of the
 * ranks' losses (and the data-parallel gradient) is that of one process holding the whole batch.
 *
 * ```ts
 * const loss = ntXentLoss(head.forward(backbone.forward(a)), head.forward(backbone.forward(b)), 0.5);
 * ```
 */
import { type Tensor, allGatherWithGrad, arange, cat, crossEntropy, normalize, worldRank, worldSize } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export function ntXentLoss(z1: Tensor, z2: Tensor, temperature = 0.5, o: { gatherDistributed?: boolean } = {}): Tensor {
  if (z1.ndim !== 2 || z1.shape.join() !== z2.shape.join()) {
    throw new Error(`ntXentLoss: expected two embeddings [N, D] of the same shape, got [${z1.shape.join(', ')}] and [${z2.shape.join(', ')}]`);
  }
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature must be positive, got ${temperature}`);
  const n = z1.size(0);
  const [rank, world] = (o.gatherDistributed ?? true) ? [worldRank(), worldSize()] : [0, 1];
  const total = n * world;
  return inFloat32((f) => {
    const [u1, u2] = [normalize(f(z1), { dim: 1 }), normalize(f(z2), { dim: 1 })];  // [n, D] each, unit rows
    const anchors = cat([u1, u2], 0);                                          // [2n, D]
    const candidates = world === 1 ? anchors
      : cat([allGatherWithGrad(u1), allGatherWithGrad(u2)], 0);               // [2N, D]: every rank's view 1, then view 2
    const logits = anchors.matmul(candidates.T).div(temperature);             // [2n, 2N]
    // Anchor i (view 1 of local image i, or view 2 of local image i - n) sits at `self` among the candidates.
    const local = arange(2 * n, undefined, 1, { dtype: 'int64' });
    const self = local.remainder(n).add(rank * n).add(local.ge(n).mul(total));   // [2n]
    const positives = self.add(total).remainder(2 * total);                   // the other view of the same image
    const masked = logits.scatter(1, self.unsqueeze(1), -Infinity);           // an anchor is not its own negative
    return crossEntropy(masked, positives);
  });
}
