/**
 * LARS (You et al., 2017), the large-batch optimizer of SimCLR, BYOL and Barlow Twins:
 * momentum SGD whose step for each weight is scaled by the trust ratio
 * eta ||p|| / ||g + wd p||. Biases and normalisation parameters (one dimension or fewer)
 * get neither weight decay nor the trust ratio, as in those papers' implementations.
 *
 * ```ts
 * const opt = new LARS(net.parameters(), { lr: 0.3 * batch / 256, momentum: 0.9, weightDecay: 1e-6 });
 * ```
 */
import { type Tensor, keep, where } from '../tensor/index.js';
import { Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';

export interface LARSOptions { lr: number; momentum: number; weightDecay: number; eta: number; excludeBiasAndNorm: boolean }

export class LARS extends Optimizer<LARSOptions> {
  constructor(params: Tensor[] | ParamGroupInput[], o: Partial<LARSOptions> & { lr: number }) {
    super(params, { momentum: 0.9, weightDecay: 0, eta: 0.001, excludeBiasAndNorm: true, ...o });
  }

  protected update(p: Tensor, grad: Tensor, state: Record<string, Tensor>, g: ParamGroup<LARSOptions>): void {
    let d = grad;
    if (!(g.excludeBiasAndNorm && p.ndim <= 1)) {
      if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);
      const paramNorm = p.norm();
      const updateNorm = d.norm();
      // trust = eta ||p|| / ||d||, or 1 when either norm is zero
      const ratio = paramNorm.mul(g.eta).div(updateNorm);
      const trust = where(paramNorm.gt(0), where(updateNorm.gt(0), ratio, 1), 1);
      d = d.mul(trust);
    }
    if (state.momentum === undefined) state.momentum = keep(d.clone());
    else state.momentum.mul_(g.momentum).add_(d);
    p.add_(state.momentum, -g.lr);
  }
}
