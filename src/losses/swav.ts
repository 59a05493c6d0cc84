/**
 * SwAV's codes and loss (Caron et al., 2020, "Unsupervised Learning of Visual Features by Contrasting
 * Cluster Assignments"):
 * - `sinkhornKnopp` (Sec. 3.1, Alg. 1; the reference's distributed_sinkhorn): soft codes Q [B, K] from
 *   prototype scores [B, K], exp(scores / epsilon) scaled by alternating row and column normalisation
 *   (3 iterations, epsilon 0.05) so that each prototype is used equally by the batch of every process
 *   and each image's codes sum to 1;
 * - `swavLoss` (Eq. 1-2, "swapped prediction"): each global crop's codes are predicted from every other
 *   crop's scores, -sum_k q_k log softmax(scores / T)_k with T 0.1, averaged over the pairs.
 * Both in float32 (exp(1 / 0.05) is past bfloat16's precision); the codes carry no gradient.
 *
 * ```ts
 * const codes = [sinkhornKnopp(scores[0]), sinkhornKnopp(scores[1])];   // the global crops' [B, K]
 * const loss = swavLoss(scores, codes, 0.1);                             // scores: every crop's [B, K]
 * ```
 */
import { type Tensor, allReduce, full, noGrad, worldSize } from '../tensor/index.js';
import { crossViewCrossEntropy } from './crossViewCrossEntropy.js';
import { inFloat32 } from './float32.js';

export interface SinkhornOptions {
  /** the entropy regularisation (default 0.05) */
  epsilon?: number;
  /** normalisation rounds (default 3) */
  iterations?: number;
}

export function sinkhornKnopp(scores: Tensor, o: SinkhornOptions = {}): Tensor {
  const epsilon = o.epsilon ?? 0.05, iterations = o.iterations ?? 3;
  if (scores.ndim !== 2) throw new Error(`sinkhornKnopp: expected scores [B, K], got [${scores.shape.join(', ')}]`);
  if (!(epsilon > 0) || !(Number.isInteger(iterations) && iterations >= 1)) throw new Error(`sinkhornKnopp: expected epsilon > 0 and iterations >= 1, got ${epsilon} and ${iterations}`);
  return noGrad(() => inFloat32((f) => {
    const s = f(scores);
    // the rows of every process (DINOv2's masked patches differ in number between processes)
    const [b, k] = [worldSize() > 1 ? allReduce(full([1], s.size(0))).item() : s.size(0), s.size(1)];
    // the largest score of every process subtracted first: it cancels in the normalisation and keeps exp finite
    let q = s.sub(allReduce(s.max(), 'max')).div(epsilon).exp().T;     // [K, B]
    q = q.div(allReduce(q.sum()));
    for (let i = 0; i < iterations; i++) {
      q = q.div(allReduce(q.sum(1, true)).mul(k));                      // each prototype: mass 1/K over every process's batch
      q = q.div(q.sum(0, true).mul(b));                                 // each image: mass 1/B
    }
    return q.mul(b).T;                                                  // [B, K], rows sum to 1
  }));
}

export function swavLoss(scores: Tensor[], codes: Tensor[], temperature = 0.1): Tensor {
  if (codes.length < 1 || scores.length < 2 || codes.length > scores.length) {
    throw new Error(`swavLoss: expected the codes of the first crops and the scores of every crop (at least 2), got ${codes.length} and ${scores.length}`);
  }
  const shape = scores[0].shape.join();
  for (const t of [...scores, ...codes]) {
    if (t.ndim !== 2 || t.shape.join() !== shape) throw new Error(`swavLoss: expected every score and code [B, K] of one shape, got [${t.shape.join(', ')}] beside [${shape}]`);
  }
  if (!(temperature > 0)) throw new Error(`swavLoss: temperature must be positive, got ${temperature}`);
  return inFloat32((f) => {
    const logProbabilities = scores.map((s) => f(s).div(temperature).logSoftmax(1));   // [B, K] per crop
    return crossViewCrossEntropy(codes.map((q) => f(q).detach()), logProbabilities);
  });
}
