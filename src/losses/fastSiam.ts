/**
 * FastSiam's loss (Pototzky et al., 2022, "FastSiam: Resource-Efficient Self-supervised Learning on a
 * Single GPU", Sec. 3): SimSiam with K views of each image, where each view's prediction regresses the
 * mean of the other K - 1 views' projections (stop-gradient), a steadier target at small batch:
 *   L = 1/K sum_i -cos(p_i, stopgrad(mean_{j != i} z_j)).
 *
 * ```ts
 * const loss = fastSiamLoss([p1, p2, p3, p4], [z1, z2, z3, z4]);   // each [N, D]
 * ```
 */
import { type Tensor, cosineSimilarity, stack } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

export function fastSiamLoss(predictions: Tensor[], projections: Tensor[]): Tensor {
  const k = predictions.length;
  if (k < 2 || projections.length !== k) throw new Error(`fastSiamLoss: expected as many predictions as projections, at least 2, got ${predictions.length} and ${projections.length}`);
  const shape = predictions[0].shape.join();
  for (const t of [...predictions, ...projections]) {
    if (t.ndim !== 2 || t.shape.join() !== shape) throw new Error(`fastSiamLoss: expected every prediction and projection [N, D] of one shape, got [${t.shape.join(', ')}] beside [${shape}]`);
  }
  return inFloat32((f) => {
    const z = stack(projections.map((t) => f(t).detach()), 0);   // [K, N, D]
    const total = z.sum(0);                                       // [N, D]
    let loss: Tensor | null = null;
    for (let i = 0; i < k; i++) {
      const target = total.sub(z.select(0, i)).div(k - 1);        // mean of the other views, [N, D]
      const term = cosineSimilarity(f(predictions[i]), target, 1).mean().neg();
      loss = loss === null ? term : loss.add(term);
    }
    return loss!.div(k);
  });
}
