/**
 * NNCLR's loss (Dwibedi et al., 2021, "With a Little Help from My Friends", Eq. 1): each image's
 * positive is the nearest neighbour of its embedding in a support set Q (a queue of earlier
 * embeddings), against the other view's predictions of the batch:
 *   L_i = -log exp(NN(z_i, Q) . p_i+ / T) / sum_k exp(NN(z_i, Q) . p_k+ / T),
 * with every vector unit-length. The neighbour carries no gradient (it is a row of the queue); the
 * other view's predictions of every process are the candidates (gathered, with their gradient).
 *
 * ```ts
 * const nn1 = nearestNeighbours(z1, queue);                 // [N, D]
 * const loss = nnclrLoss(nn1, p2, 0.1).add(nnclrLoss(nn2, p1, 0.1)).div(2);
 * ```
 */
import { type Tensor, allGatherWithGrad, arange, crossEntropy, noGrad, normalize, worldRank } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

/** The nearest row of `support` [Q, D] (unit rows) to each row of `z` [N, D] by cosine similarity: [N, D], no gradient. */
export function nearestNeighbours(z: Tensor, support: Tensor): Tensor {
  if (z.ndim !== 2 || support.ndim !== 2 || z.size(1) !== support.size(1)) {
    throw new Error(`nearestNeighbours: expected embeddings [N, D] and a support set [Q, D], got [${z.shape.join(', ')}] and [${support.shape.join(', ')}]`);
  }
  return noGrad(() => inFloat32((f) => {
    const nearest = normalize(f(z), { dim: 1 }).matmul(f(support).T).argmax(1);   // [N]
    return f(support).indexSelect(0, nearest);                                    // [N, D]
  }));
}

export function nnclrLoss(neighbours: Tensor, predictions: Tensor, temperature = 0.1): Tensor {
  if (neighbours.ndim !== 2 || neighbours.shape.join() !== predictions.shape.join()) {
    throw new Error(`nnclrLoss: expected neighbours and predictions [N, D] of one shape, got [${neighbours.shape.join(', ')}] and [${predictions.shape.join(', ')}]`);
  }
  if (!(temperature > 0)) throw new Error(`nnclrLoss: temperature must be positive, got ${temperature}`);
  return inFloat32((f) => {
    const n = neighbours.size(0);
    const candidates = allGatherWithGrad(normalize(f(predictions), { dim: 1 }));                 // [N * world, D]
    const logits = normalize(f(neighbours).detach(), { dim: 1 }).matmul(candidates.T).div(temperature); // [N, N * world]
    return crossEntropy(logits, arange(n, undefined, 1, { dtype: 'int64' }).add(worldRank() * n));
  });
}
