/**
 * The cross-entropy between the target distribution of one view and the prediction of another,
 * averaged over the batch and over every (target view i, predicting view j) pair with i != j; the
 * target views are the first of the predicting ones. DINO's loss (Caron et al., 2021, Eq. 1: the
 * teacher's global crops against the student's crops) and SwAV's swapped prediction (Caron et al.,
 * 2020, Eq. 1-2: the global crops' codes against every other crop's prototype scores) are this.
 *
 * ```ts
 * const loss = crossViewCrossEntropy(targets, logProbabilities);   // [B, K] each, targets first
 * ```
 */
import type { Tensor } from '../tensor/index.js';

/** targets: [B, K] per target view (probabilities); logProbabilities: [B, K] per view; a scalar. */
export function crossViewCrossEntropy(targets: Tensor[], logProbabilities: Tensor[]): Tensor {
  let total: Tensor | null = null;
  let pairs = 0;
  for (let i = 0; i < targets.length; i++) {
    for (let j = 0; j < logProbabilities.length; j++) {
      if (i === j) continue;
      const term = targets[i].mul(logProbabilities[j]).sum(-1).mean().neg();
      total = total ? total.add(term) : term;
      pairs++;
    }
  }
  if (!total) throw new Error('crossViewCrossEntropy: need at least two views');
  return total.div(pairs);
}
