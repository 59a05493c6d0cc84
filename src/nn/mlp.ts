/**
 * Multi-layer perceptron: Linear -> [norm] -> activation, repeated, then a last Linear
 * with an optional norm (the projection heads of SimCLR/MoCo v2 and the predictors of
 * BYOL/SimSiam are built from it). Children are named `layers.0`, `layers.1`, ...
 *
 * ```ts
 * new MLP([512, 2048, 128], { norm: 'batch' });   // SimCLR head: Linear-BN-ReLU-Linear
 * ```
 */
import type { Generator, Tensor } from '../tensor/index.js';
import { BatchNorm1d } from './batchNorm.js';
import { GELU, ReLU, Sequential } from './basic.js';
import { Linear } from './linear.js';
import { Layer } from './module.js';
import { LayerNorm } from './norms.js';

export interface MLPOptions {
  norm?: 'batch' | 'layer' | null;
  activation?: 'relu' | 'gelu';
  /** a norm after the last Linear too (affine-free BN in MoCo v3 / SimSiam projectors) */
  lastNorm?: boolean;
  /** bias on Linears followed by a norm (redundant with BN; off by default then) */
  biasBeforeNorm?: boolean;
  generator?: Generator;
}

export class MLP extends Layer {
  readonly layers: Sequential;

  constructor(readonly dims: number[], o: MLPOptions = {}) {
    super();
    if (dims.length < 2) throw new Error(`MLP: need at least [in, out] dimensions, got [${dims.join(', ')}]`);
    const parts: Layer[] = [];
    const norm = (d: number, last: boolean): Layer =>
      o.norm === 'layer' ? new LayerNorm(d) : new BatchNorm1d(d, last ? { affine: false } : {});
    for (let i = 0; i < dims.length - 1; i++) {
      const last = i === dims.length - 2;
      const normed = o.norm != null && (!last || o.lastNorm === true);
      parts.push(new Linear(dims[i], dims[i + 1], { bias: !normed || (o.biasBeforeNorm ?? false), generator: o.generator }));
      if (normed) parts.push(norm(dims[i + 1], last));
      if (!last) parts.push(o.activation === 'gelu' ? new GELU() : new ReLU());
    }
    this.layers = this.registerModule('layers', new Sequential(...parts));
  }

  forward(x: Tensor): Tensor {
    return this.layers.forward(x);
  }
}
