/**
 * Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay,
 * exactly as torch.optim.SGD (Sutskever et al., 2013 for Nesterov):
 *   d = g + wd p;  b = m b + (1 - dampening) d  (b = d on the first step);
 *   d = nesterov ? d + m b : b;  p -= lr d
 *
 * ```ts
 * const opt = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * ```
 */
import { type Tensor, keep } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';

export interface SGDOptions { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | ParamGroupInput[], o: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o });
    for (const g of this.groups) {
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
    }
  }

  protected update(p: Tensor, grad: Tensor, state: Record<string, Tensor>, g: ParamGroup<SGDOptions>): void {
    let d = g.weightDecay !== 0 ? grad.add(p, g.weightDecay) : grad;
    if (g.momentum !== 0) {
      const buf = state.momentum;
      if (buf === undefined) state.momentum = keep(d.clone());
      else buf.mul_(g.momentum).add_(d, 1 - g.dampening);
      d = g.nesterov ? d.add(state.momentum, g.momentum) : state.momentum;
    }
    p.add_(d, -g.lr);
  }
}
