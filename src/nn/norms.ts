/**
 * Layer normalisation (Ba et al., 2016) and group normalisation (Wu & He, 2018), as
 * torch.nn.LayerNorm / GroupNorm (gamma 1, beta 0).
 *
 * ```ts
 * new LayerNorm(192, { eps: 1e-6 }).forward(tokens);   // [B, N, 192]
 * new GroupNorm(32, 256).forward(maps);                // [B, 256, H, W]
 * ```
 */
import { type Tensor, groupNorm, layerNorm, ones, zeros } from '../tensor/index.js';
import { Layer } from './module.js';

export class LayerNorm extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(readonly normalizedShape: number | number[], options: { eps?: number; affine?: boolean } = {}) {
    super();
    this.eps = options.eps ?? 1e-5;
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones(shape)) : null;
    this.bias = affine ? this.registerParameter('bias', zeros(shape)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

export class GroupNorm extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(readonly groups: number, readonly channels: number, options: { eps?: number; affine?: boolean } = {}) {
    super();
    if (channels % groups !== 0) throw new Error(`GroupNorm: ${channels} channels are not divisible into ${groups} groups`);
    this.eps = options.eps ?? 1e-5;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones([channels])) : null;
    this.bias = affine ? this.registerParameter('bias', zeros([channels])) : null;
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}
