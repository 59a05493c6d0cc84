/**
 * InfoNCE with a queue of negatives (MoCo, He et al., 2020, Eq. 1; MoCo v2, Chen et al., 2020):
 * each query's positive is its own key (from the momentum encoder), its negatives the K keys of
 * earlier batches in the queue; cross-entropy over [q.k+, q.queue] / T with the positive first.
 * With no queue it is MoCo v3's contrastive loss (Chen et al., 2021, Alg. 1): the other keys of the
 * batch are the negatives, logits q k^T / T, targets the diagonal, scaled by 2T as the paper.
 *
 * ```ts
 * const loss = infoNceLoss(q, k, queue, 0.2);        // MoCo v2: q, k [N, D], queue [K, D]
 * const l3 = mocoV3Loss(q1, k2, 0.2) + mocoV3Loss(q2, k1, 0.2);
 * ```
 */
import { type Tensor, allGather, arange, cat, crossEntropy, normalize, worldRank, zeros } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export function infoNceLoss(queries: Tensor, keys: Tensor, queue: Tensor, temperature = 0.2): Tensor {
  if (queries.ndim !== 2 || queries.shape.join() !== keys.shape.join() || queue.ndim !== 2 || queue.size(1) !== queries.size(1)) {
    throw new Error(`infoNceLoss: expected queries and keys [N, D] and a queue [K, D], got [${queries.shape.join(', ')}], [${keys.shape.join(', ')}], [${queue.shape.join(', ')}]`);
  }
  if (!(temperature > 0)) throw new Error(`infoNceLoss: temperature must be positive, got ${temperature}`);
  return inFloat32((f) => {
    const q = normalize(f(queries), { dim: 1 });
    const k = normalize(f(keys), { dim: 1 }).detach();
    const positive = q.mul(k).sum(1, true);                       // [N, 1]
    const negative = q.matmul(normalize(f(queue), { dim: 1 }).T); // [N, K]
    const logits = cat([positive, negative], 1).div(temperature); // [N, 1 + K]
    return crossEntropy(logits, zeros([q.size(0)], { dtype: 'int64' }));
  });
}

export function mocoV3Loss(queries: Tensor, keys: Tensor, temperature = 0.2): Tensor {
  if (queries.ndim !== 2 || queries.shape.join() !== keys.shape.join()) {
    throw new Error(`mocoV3Loss: expected queries and keys [N, D] of one shape, got [${queries.shape.join(', ')}] and [${keys.shape.join(', ')}]`);
  }
  return inFloat32((f) => {
    const n = queries.size(0);
    const allKeys = allGather(normalize(f(keys), { dim: 1 }).detach());                           // [N * world, D]
    const logits = normalize(f(queries), { dim: 1 }).matmul(allKeys.T).div(temperature);         // [N, N * world]
    return crossEntropy(logits, arange(n, undefined, 1, { dtype: 'int64' }).add(worldRank() * n)).mul(2 * temperature);
  });
}
