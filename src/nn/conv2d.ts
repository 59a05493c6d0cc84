/**
 * 2-D convolution (torch.nn.Conv2d), PyTorch's default init (uniform in ±1/sqrt(fan_in)).
 *
 * ```ts
 * const conv = new Conv2d(3, 64, 3, { padding: 1, bias: false });
 * conv.forward(x);                    // [N, 3, H, W] -> [N, 64, H, W]
 * ```
 */
import { type Generator, type Tensor, conv2d, empty } from '../tensor/index.js';
import { kaimingUniform_, uniform_ } from './init.js';
import { Layer } from './module.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  bias?: boolean;
  generator?: Generator;
}

export class Conv2d extends Layer {
  readonly weight: Tensor; // [out, in / groups, k, k]
  readonly bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly options: Conv2dOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: channels ${inChannels} -> ${outChannels} are not divisible by groups=${groups}`);
    }
    const w = empty([outChannels, inChannels / groups, kernelSize, kernelSize]);
    this.weight = this.registerParameter('weight', kaimingUniform_(w, { a: Math.sqrt(5), generator: options.generator }));
    const bound = 1 / Math.sqrt((inChannels / groups) * kernelSize * kernelSize);
    this.bias = options.bias ?? true ? this.registerParameter('bias', uniform_(empty([outChannels]), -bound, bound, options.generator)) : null;
  }

  forward(x: Tensor): Tensor {
    const o = this.options;
    return conv2d(x, this.weight, this.bias, { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups });
  }
}
