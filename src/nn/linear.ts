/**
 * Fully connected layer y = x W^T + b (torch.nn.Linear), PyTorch's default init:
 * W and b uniform in ±1/sqrt(in).
 *
 * ```ts
 * const fc = new Linear(512, 128);
 * const y = fc.forward(x);            // [N, 512] -> [N, 128]
 * ```
 */
import { type Generator, type Tensor, empty, linear } from '../tensor/index.js';
import { kaimingUniform_, uniform_ } from './init.js';
import { Layer } from './module.js';

export class Linear extends Layer {
  readonly weight: Tensor; // [out, in]
  readonly bias: Tensor | null; // [out]

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; generator?: Generator } = {}) {
    super();
    this.weight = this.registerParameter('weight', kaimingUniform_(empty([outFeatures, inFeatures]), { a: Math.sqrt(5), generator: options.generator }));
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias = options.bias ?? true ? this.registerParameter('bias', uniform_(empty([outFeatures]), -bound, bound, options.generator)) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
