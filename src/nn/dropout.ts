/**
 * Dropout (Srivastava et al., 2014) and DropPath / stochastic depth (Huang et al., 2016):
 * active in train mode only. DropPath drops whole samples of a residual branch and
 * rescales the rest by 1/(1-p), as timm's drop_path.
 *
 * ```ts
 * x = x.add(dropPath.forward(block.forward(x)));   // a residual branch with stochastic depth
 * ```
 */
import { type Tensor, bernoulli, dropout, empty } from '../tensor/index.js';
import { Layer } from './module.js';

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p < 1)) throw new Error(`${name}: probability must be in [0, 1), got ${p}`);
}

export class Dropout extends Layer {
  constructor(readonly p = 0.5) {
    super();
    checkProbability('Dropout', p);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

export class DropPath extends Layer {
  /** drop probability; settable (fine-tuning turns stochastic depth on in a pretrained model) */
  constructor(public p = 0) {
    super();
    checkProbability('DropPath', p);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const keepProb = 1 - this.p;
    const shape = [x.size(0), ...x.shape.slice(1).map(() => 1)]; // [N, 1, 1, ...]: one draw per sample
    const mask = bernoulli(empty(shape), keepProb);
    return x.mul(mask).div(keepProb);
  }
}
