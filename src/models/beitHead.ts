/**
 * BEiT's masked-image-modelling head (Bao et al., 2022): a linear layer from the encoder
 * width to the visual-token vocabulary, applied to the masked patch tokens only.
 *
 * ```ts
 * const head = new BEiTHead(192, 8192);
 * const logits = head.forward(tokens, mask);     // [B, 1 + N, 192], [B, N] -> [masked, 8192]
 * ```
 */
import { type Generator, type Tensor } from '../tensor/index.js';
import { Linear, Module, init } from '../nn/index.js';

export class BEiTHead extends Module {
  readonly head: Linear;
  constructor(dim: number, vocabulary: number, generator?: Generator) {
    super();
    this.head = this.registerModule('lm_head', new Linear(dim, vocabulary, { generator }));
    init.truncNormal_(this.head.weight, 0.02, generator);
    init.constant_(this.head.bias!, 0);
  }

  /** Scores of the masked patches, in row-major order of `mask`. */
  forward(tokens: Tensor, mask: Tensor): Tensor {
    const patches = tokens.slice(1, 1); // drop cls: [B, N, dim]
    const [b, n, d] = patches.shape;
    const rows = mask.reshape(b * n).nonzero().squeeze(1); // [M]
    return this.head.forward(patches.reshape(b * n, d).indexSelect(0, rows)); // [M, vocabulary]
  }
}
