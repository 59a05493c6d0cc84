/**
 * The regression losses of BYOL and SimSiam, between a prediction p and a target z that gets no
 * gradient (the stop-gradient that keeps both from collapsing):
 * - SimSiam (Chen & He, 2021, Eq. 1): D(p, z) = -cos(p, stopgrad(z)), mean over the batch;
 * - BYOL (Grill et al., 2020, Eq. 2): ||p/|p| - z/|z| ||^2 = 2 - 2 cos(p, z), mean over the batch.
 * `stopGradient: false` removes the stop-gradient (SimSiam's ablation, which collapses).
 *
 * ```ts
 * const loss = negativeCosine(p1, z2).add(negativeCosine(p2, z1)).div(2);   // SimSiam's symmetric loss
 * ```
 */
import { type Tensor, cosineSimilarity } from '../tensor/index.js';
import { inFloat32 } from './float32.js';

function check(name: string, p: Tensor, z: Tensor): void {
  if (p.ndim !== 2 || p.shape.join() !== z.shape.join()) throw new Error(`${name}: expected predictions and targets [N, D] of one shape, got [${p.shape.join(', ')}] and [${z.shape.join(', ')}]`);
}

export function negativeCosine(p: Tensor, z: Tensor, o: { stopGradient?: boolean } = {}): Tensor {
  check('negativeCosine', p, z);
  return inFloat32((f) => cosineSimilarity(f(p), f(o.stopGradient === false ? z : z.detach()), 1).mean().neg());
}

export function byolLoss(p: Tensor, z: Tensor): Tensor {
  check('byolLoss', p, z);
  return inFloat32((f) => cosineSimilarity(f(p), f(z.detach()), 1).mul(-2).add(2).mean());
}
