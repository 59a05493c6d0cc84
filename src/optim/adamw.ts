/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, as torch.optim.AdamW:
 *   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * ```ts
 * const opt = new AdamW(vit.parameterGroups(0.05), { lr: 1.5e-4, betas: [0.9, 0.95] });  // MAE
 * ```
 */
import { type Tensor, adamwStep_, keep, zeros, zerosLike } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';

export interface AdamWOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number }

export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: Tensor[] | ParamGroupInput[], o: Partial<AdamWOptions> & { lr: number }) {
    super(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, ...o });
  }

  /** The whole group in one native call (the loop runs in libtorch, the arithmetic above). */
  protected override updateGroup(g: ParamGroup<AdamWOptions>): void {
    const live: Tensor[] = [];
    for (const p of g.params) {
      if (!this.state.has(p)) {
        if (p.grad === null) continue;   // as PyTorch: state only for parameters that have had a gradient
        this.state.set(p, AdamW.initialState(p));
      }
      live.push(p);
    }
    const states = live.map((p) => this.state.get(p)!);
    adamwStep_(live, states.map((s) => s.step), states.map((s) => s.m), states.map((s) => s.v), g);
  }

  /** One parameter (its gradient is read natively, as in {@link updateGroup}). */
  protected update(p: Tensor, _grad: Tensor, state: Record<string, Tensor>, g: ParamGroup<AdamWOptions>): void {
    if (state.step === undefined) Object.assign(state, AdamW.initialState(p));
    adamwStep_([p], [state.step], [state.m], [state.v], g);
  }

  /** step (a float64 tensor, so checkpoints carry it), first and second moments, all zero. */
  private static initialState(p: Tensor): Record<string, Tensor> {
    return { step: keep(zeros([], { dtype: 'float64' })), m: keep(zerosLike(p)), v: keep(zerosLike(p)) };
  }
}
