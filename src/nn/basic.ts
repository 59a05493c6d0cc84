/**
 * Identity, activations, Sequential and ModuleList (torch.nn.Identity, ReLU, GELU, SiLU,
 * Sequential, ModuleList).
 *
 * ```ts
 * const block = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 4));
 * block.namedParameters()[0][0];      // '0.weight', as PyTorch
 * ```
 */
import { type Tensor, pipe } from '../tensor/index.js';
import { Layer, Module } from './module.js';

export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class GELU extends Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.gelu(this.approximate);
  }
}

export class SiLU extends Layer {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

/** Applies its layers in order, freeing each intermediate as soon as the next layer used it. */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers.map((layer, i) => this.registerModule(String(i), layer));
  }
  forward(x: Tensor): Tensor {
    return pipe(x, ...this.layers.map((layer) => (t: Tensor) => layer.forward(t)));
  }
}

/** Holds modules under the names '0', '1', ... without running them (transformer blocks). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }
}
