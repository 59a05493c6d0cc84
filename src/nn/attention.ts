/**
 * Multi-head self-attention (Vaswani et al., 2017) as in ViT (Dosovitskiy et al., 2021)
 * and timm's Attention: one qkv projection, scaled dot-product attention per head, an
 * output projection. Keys `qkv.weight`, `qkv.bias`, `proj.weight`, `proj.bias`, as timm.
 *
 * ```ts
 * const attn = new MultiheadSelfAttention(192, 3);
 * const [y, weights] = attn.forwardWithWeights(tokens);   // [B, N, 192], [B, 3, N, N]
 * ```
 */
import { type Generator, type Tensor, attention, attentionWithWeights, dropout, linear } from '../tensor/index.js';
import { Linear } from './linear.js';
import { Layer } from './module.js';

export interface AttentionOptions { qkvBias?: boolean; attnDrop?: number; projDrop?: number; generator?: Generator }

export class MultiheadSelfAttention extends Layer {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;

  constructor(readonly dim: number, readonly heads: number, readonly o: AttentionOptions = {}) {
    super();
    if (dim % heads !== 0) throw new Error(`MultiheadSelfAttention: dim ${dim} is not divisible by ${heads} heads`);
    this.headDim = dim / heads;
    this.qkv = this.registerModule('qkv', new Linear(dim, dim * 3, { bias: o.qkvBias ?? true, generator: o.generator }));
    this.proj = this.registerModule('proj', new Linear(dim, dim, { generator: o.generator }));
  }

  forward(x: Tensor): Tensor {
    return this.run(x, false)[0];
  }

  /** Also returns the attention weights [B, heads, N, N] (for DINO's attention maps). */
  forwardWithWeights(x: Tensor): [Tensor, Tensor] {
    return this.run(x, true) as [Tensor, Tensor];
  }

  /**
   * The outputs of some tokens only: `queries` [B, Nq, C] (rows of x) ask, every token of x [B, N, C]
   * answers with its keys and values -> [B, Nq, C], row for row what `forward(x)` gives those tokens,
   * without the queries, scores and projections of the others (for a last block whose other outputs
   * nothing reads). The qkv weight's first C rows make the queries, the other 2C the keys and values.
   */
  forwardQueries(x: Tensor, queries: Tensor): Tensor {
    const [b, n, c] = x.shape;
    const nq = queries.size(1);
    const { weight, bias } = this.qkv;
    const q = linear(queries, weight.narrow(0, 0, c), bias?.narrow(0, 0, c))
      .reshape(b, nq, this.heads, this.headDim).transpose(1, 2); // [B, heads, Nq, headDim]
    // [B, N, 2C] -> [2, B, heads, N, headDim]
    const kv = linear(x, weight.narrow(0, c, 2 * c), bias?.narrow(0, c, 2 * c)).reshape(b, n, 2, this.heads, this.headDim).permute(2, 0, 3, 1, 4);
    const [k, v] = kv.unbind(0);
    return this.project(attention(q, k, v, { dropout: this.attentionDropout() }));
  }

  private run(x: Tensor, needWeights: boolean): Tensor[] {
    const [b, n] = x.shape;
    // [B, N, 3C] -> [3, B, heads, N, headDim]
    const qkv = this.qkv.forward(x).reshape(b, n, 3, this.heads, this.headDim).permute(2, 0, 3, 1, 4);
    const [q, k, v] = qkv.unbind(0);
    const drop = this.attentionDropout();
    const [out, weights] = needWeights ? attentionWithWeights(q, k, v, { dropout: drop }) : [attention(q, k, v, { dropout: drop }), null];
    const y = this.project(out);
    return weights ? [y, weights] : [y];
  }

  private attentionDropout(): number {
    return this.training ? this.o.attnDrop ?? 0 : 0;
  }

  /** The heads' outputs [B, heads, N, headDim] side by side [B, N, C], through the output projection (and its dropout). */
  private project(heads: Tensor): Tensor {
    const [b, , n] = heads.shape;
    return dropout(this.proj.forward(heads.transpose(1, 2).reshape(b, n, this.dim)), this.o.projDrop ?? 0, this.training);
  }
}
