/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, as torch.optim.AdamW:
 *   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * ```ts
 * const opt = new AdamW(vit.parameterGroups(0.05), { lr: 1.5e-4, betas: [0.9, 0.95] });  // MAE
 * ```
 */
import { type Tensor, keep, zeros, zerosLike } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';

export interface AdamWOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number }

export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: Tensor[] | ParamGroupInput[], o: Partial<AdamWOptions> & { lr: number }) {
    super(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, ...o });
  }

  protected update(p: Tensor, grad: Tensor, state: Record<string, Tensor>, g: ParamGroup<AdamWOptions>): void {
    const [b1, b2] = g.betas;
    state.step ??= keep(zeros([], { dtype: 'float64' })); // a tensor, so checkpoints carry it
    const t = state.step.add_(1).item();
    state.m ??= keep(zerosLike(p));
    state.v ??= keep(zerosLike(p));
    if (g.weightDecay !== 0) p.mul_(1 - g.lr * g.weightDecay);
    state.m.lerp_(grad, 1 - b1); // m = b1 m + (1 - b1) g
    state.v.mul_(b2).addcmul_(grad, grad, 1 - b2);
    const denom = state.v.sqrt().div_(Math.sqrt(1 - b2 ** t)).add_(g.eps);
    p.addcdiv_(state.m, denom, -g.lr / (1 - b1 ** t));
  }
}
