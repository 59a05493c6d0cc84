/**
 * Vision Transformer (Dosovitskiy et al., 2021) with timm's structure and state-dict
 * names (patch_embed.proj, cls_token, pos_embed, blocks.N.{norm1, attn.qkv, attn.proj,
 * norm2, mlp.fc1, mlp.fc2}, norm, head), so parameter counts and weights line up with
 * timm. Besides the plain forward it has the forwards the SSL methods need: only the
 * visible patches (MAE), masked patches replaced by a mask token (BEiT/iBOT), and the
 * last block's attention (DINO's attention maps).
 *
 * ```ts
 * const vit = vitTiny({ imageSize: 32, patchSize: 4 });   // 64 patches of 4x4
 * const cls = vit.forward(images);                          // [B, 192]
 * const tokens = vit.forwardVisible(images, keepIds);       // [B, 1 + 16, 192]
 * ```
 */
import {
  type Generator, type Tensor, cat, empty, full, interpolate, keep, noGrad, pipe, tidy, zeros, arange, where,
} from '../tensor/index.js';
import { Conv2d, DropPath, GELU, Identity, Layer, LayerNorm, Linear, Module, ModuleList, MultiheadSelfAttention, init } from '../nn/index.js';
import { gatherTokens } from './patches.js';

export interface ViTOptions {
  imageSize?: number;
  patchSize?: number;
  dim?: number;
  depth?: number;
  heads?: number;
  mlpRatio?: number;
  /** classifier outputs; 0 (default) gives a backbone whose forward returns the cls feature */
  numClasses?: number;
  /** 'learned' (timm, trunc-normal 0.02) or fixed 2-D sin-cos (MAE) */
  posEmbed?: 'learned' | 'sincos';
  /** stochastic depth rate of the last block (linearly increasing from 0) */
  dropPath?: number;
  /** the feature of `forward`: the cls token after the final norm (default), or the mean of the patch tokens (MAE's global pool) */
  pool?: 'cls' | 'mean';
  /** LayerScale (Touvron et al., 2021, CaiT; BEiT): residual branches times a learned per-channel gamma starting here (e.g. 0.1) */
  layerScale?: number;
  qkvBias?: boolean;
  generator?: Generator;
}

/** Non-overlapping patches to tokens: [B, 3, H, W] -> [B, N, dim] (timm's PatchEmbed). */
class PatchEmbed extends Layer {
  readonly proj: Conv2d;
  constructor(patchSize: number, dim: number, g?: Generator) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(3, dim, patchSize, { stride: patchSize, generator: g }));
  }
  forward(x: Tensor): Tensor {
    return pipe(x, (t) => this.proj.forward(t), (t) => t.flatten(2), (t) => t.transpose(1, 2));
  }
}

/** fc1 -> GELU -> fc2, timm's Mlp. */
class FeedForward extends Layer {
  readonly fc1: Linear;
  readonly act = new GELU();
  readonly fc2: Linear;
  constructor(dim: number, hidden: number, g?: Generator) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden, { generator: g }));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, dim, { generator: g }));
  }
  forward(x: Tensor): Tensor {
    return pipe(x, (t) => this.fc1.forward(t), (t) => this.act.forward(t), (t) => this.fc2.forward(t));
  }
}

/** x * gamma with a learned per-channel gamma [dim] (timm's LayerScale, keys ls1.gamma / ls2.gamma). */
export class LayerScale extends Layer {
  readonly gamma: Tensor;
  constructor(dim: number, init: number) {
    super();
    this.gamma = this.registerParameter('gamma', full([dim], init));
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.gamma);
  }
}

/** Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)) (each branch times LayerScale when asked). */
export class Block extends Layer {
  readonly norm1: LayerNorm;
  readonly attn: MultiheadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: FeedForward;
  readonly dropPath: DropPath;
  readonly ls1: Layer;
  readonly ls2: Layer;

  constructor(dim: number, heads: number, mlpRatio: number, dropPath: number, qkvBias: boolean, g?: Generator, layerScale?: number) {
    super();
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, { eps: 1e-6 }));
    this.attn = this.registerModule('attn', new MultiheadSelfAttention(dim, heads, { qkvBias, generator: g }));
    this.ls1 = layerScale ? this.registerModule('ls1', new LayerScale(dim, layerScale)) : new Identity();
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlp = this.registerModule('mlp', new FeedForward(dim, Math.round(dim * mlpRatio), g));
    this.ls2 = layerScale ? this.registerModule('ls2', new LayerScale(dim, layerScale)) : new Identity();
    this.dropPath = this.registerModule('drop_path', new DropPath(dropPath));
  }

  forward(x: Tensor): Tensor {
    return this.run(x, false)[0];
  }

  /** Also returns the attention weights [B, heads, N, N]. */
  forwardWithWeights(x: Tensor): [Tensor, Tensor] {
    return this.run(x, true) as [Tensor, Tensor];
  }

  /**
   * The block's outputs for the tokens `rows` picks from a [B, N, C] tensor (a slice or a gather):
   * row for row what `forward` gives them, every token still giving its keys and values, only the
   * picked ones their queries, projection and MLP (a last block whose other outputs nothing reads:
   * I-JEPA's predictor keeps its mask tokens). x [B, N, C] -> [B, Nq, C]
   */
  forwardRows(x: Tensor, rows: (t: Tensor) => Tensor): Tensor {
    const normed = this.norm1.forward(x);
    return this.withMlp(rows(x), this.attn.forwardQueries(normed, rows(normed)));
  }

  private run(x: Tensor, needWeights: boolean): Tensor[] {
    const normed = this.norm1.forward(x);
    const [a, weights] = needWeights ? this.attn.forwardWithWeights(normed) : [this.attn.forward(normed), null];
    const out = this.withMlp(x, a);
    return weights ? [out, weights] : [out];
  }

  /** x + attended (the attention branch), then + the MLP branch */
  private withMlp(x: Tensor, attended: Tensor): Tensor {
    const h = x.add(this.dropPath.forward(this.ls1.forward(attended)));
    return h.add(this.dropPath.forward(pipe(h, (t) => this.norm2.forward(t), (t) => this.mlp.forward(t), (t) => this.ls2.forward(t))));
  }
}

/**
 * Fixed 2-D sin-cos position embeddings [grid*grid, dim] as MAE's get_2d_sincos_pos_embed:
 * the first half encodes the column, the second the row, each as [sin(p w_k), cos(p w_k)]
 * with w_k = 1 / 10000^(k / (dim/4)).
 */
export function sincosPositionEmbedding(grid: number, dim: number): Tensor {
  if (dim % 4 !== 0) throw new Error(`sincosPositionEmbedding: dim ${dim} must be a multiple of 4`);
  return tidy(() => {
    const quarter = dim / 4;
    const omega = arange(0, quarter, 1, { dtype: 'float64' }).div(quarter).rpow(10000).reciprocal(); // [dim/4]
    const pos = arange(0, grid, 1, { dtype: 'float64' });
    const col = pos.repeat(grid); // [grid*grid]: 0,1,..,0,1,..
    const row = pos.repeatInterleave(grid); // 0,0,..,1,1,..
    const axis = (p: Tensor) => { const out = p.outer(omega); return cat([out.sin(), out.cos()], 1); }; // [grid*grid, dim/2]
    return cat([axis(col), axis(row)], 1).float();
  });
}

/** The sin-cos table with a zero row for the cls token in front: [1, 1 + grid*grid, dim] (MAE's cls_token=True). */
export function sincosPositionTable(grid: number, dim: number): Tensor {
  return tidy(() => cat([zeros([1, dim]), sincosPositionEmbedding(grid, dim)], 0).unsqueeze(0));
}

export class VisionTransformer extends Module {
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: Tensor; // [1, 1, dim]
  posEmbed: Tensor; // [1, 1 + patches, dim]
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly head: Linear | null;
  readonly dim: number;
  readonly patchSize: number;
  gridSize: number;
  pool: 'cls' | 'mean';

  constructor(o: ViTOptions = {}) {
    super();
    const g = o.generator;
    const imageSize = o.imageSize ?? 224;
    this.patchSize = o.patchSize ?? 16;
    this.pool = o.pool ?? 'cls';
    if (imageSize % this.patchSize !== 0) throw new Error(`ViT: patch size ${this.patchSize} does not divide image size ${imageSize}`);
    this.gridSize = imageSize / this.patchSize;
    this.dim = o.dim ?? 192;
    const depth = o.depth ?? 12;
    const heads = o.heads ?? 3;
    const patches = this.gridSize * this.gridSize;

    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed(this.patchSize, this.dim, g));
    this.clsToken = this.registerParameter('cls_token', init.truncNormal_(empty([1, 1, this.dim]), 0.02, g));
    if (o.posEmbed === 'sincos') {
      this.posEmbed = this.registerParameter('pos_embed', sincosPositionTable(this.gridSize, this.dim)).requiresGrad_(false);
    } else {
      this.posEmbed = this.registerParameter('pos_embed', init.truncNormal_(empty([1, 1 + patches, this.dim]), 0.02, g));
    }
    this.blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: depth }, (_, i) =>
      new Block(this.dim, heads, o.mlpRatio ?? 4, depth > 1 ? ((o.dropPath ?? 0) * i) / (depth - 1) : 0, o.qkvBias ?? true, g, o.layerScale)))).items;
    this.norm = this.registerModule('norm', new LayerNorm(this.dim, { eps: 1e-6 }));
    this.head = o.numClasses ? this.registerModule('head', new Linear(this.dim, o.numClasses, { generator: g })) : null;

    // timm / MAE init: trunc-normal(0.02) linears with zero bias, xavier-uniform patch projection.
    for (const [, m] of this.namedModules()) {
      if (m instanceof Linear) {
        init.truncNormal_(m.weight, 0.02, g);
        if (m.bias) init.constant_(m.bias, 0);
      }
    }
    const proj = this.patchEmbed.proj;
    tidy(() => init.xavierUniform_(proj.weight.view(this.dim, -1), g));
    init.constant_(proj.bias!, 0);
  }

  /**
   * Patch tokens with their position embeddings: [B, 3, H, W] -> [B, N, dim]. Images of another
   * size get the position table resized on the fly (bicubic, differentiable), as DINO's
   * interpolate_pos_encoding does for its local crops.
   */
  embed(x: Tensor): Tensor {
    const tokens = this.patchEmbed.forward(x); // [B, N, dim]
    const [h, w] = [x.size(2) / this.patchSize, x.size(3) / this.patchSize];
    if (!Number.isInteger(h) || !Number.isInteger(w)) throw new Error(`ViT: patch size ${this.patchSize} does not divide the image size ${x.size(2)}x${x.size(3)}`);
    if (h === this.gridSize && w === this.gridSize) return tokens.add(this.posEmbed.slice(1, 1));
    const grid = this.posEmbed.slice(1, 1).reshape(1, this.gridSize, this.gridSize, this.dim).permute(0, 3, 1, 2);
    const table = interpolate(grid, [h, w], 'bicubic').permute(0, 2, 3, 1).reshape(1, h * w, this.dim);
    return tokens.add(table);
  }

  /** Prepends the cls token (with its position embedding) and runs the blocks and final norm. */
  private encode(tokens: Tensor): Tensor {
    const cls = this.clsToken.add(this.posEmbed.slice(1, 0, 1)).expand(tokens.size(0), 1, this.dim);
    let h = cat([cls, tokens], 1); // [B, 1 + N, dim]
    h = pipe(h, ...this.blocks.map((b) => (t: Tensor) => b.forward(t)));
    return this.norm.forward(h);
  }

  /** All tokens after the final norm: [B, 1 + N, dim]. */
  forwardTokens(x: Tensor): Tensor {
    return this.encode(this.embed(x));
  }

  /** The feature [B, dim] (cls token, or mean of the patch tokens with pool 'mean'), or class logits when built with numClasses. */
  forward(x: Tensor): Tensor {
    const tokens = this.forwardTokens(x);
    const feature = this.pool === 'mean' ? tokens.slice(1, 1).mean(1) : tokens.select(1, 0);
    return this.head ? this.head.forward(feature) : feature;
  }

  /** MAE: encodes only the patches in `keepIds` [B, V] (int64): [B, 1 + V, dim]. */
  forwardVisible(x: Tensor, keepIds: Tensor): Tensor {
    return this.encode(gatherTokens(this.embed(x), keepIds)); // [B, N, dim] -> [B, V, dim] -> [B, 1 + V, dim]
  }

  /** BEiT/iBOT: patches where `mask` [B, N] (bool) is true are replaced by `maskToken` [1, 1, dim]. */
  forwardMasked(x: Tensor, mask: Tensor, maskToken: Tensor): Tensor {
    const tokens = this.patchEmbed.forward(x);
    const replaced = where(mask.unsqueeze(-1), maskToken.expand(...tokens.shape), tokens);
    return this.encode(replaced.add(this.posEmbed.slice(1, 1)));
  }

  /** The last block's attention weights [B, heads, 1 + N, 1 + N] (row 0: the cls token's attention). */
  lastAttention(x: Tensor): Tensor {
    return tidy(() => {
      const tokens = this.embed(x);
      const cls = this.clsToken.add(this.posEmbed.slice(1, 0, 1)).expand(tokens.size(0), 1, this.dim);
      const h = pipe(cat([cls, tokens], 1), ...this.blocks.slice(0, -1).map((b) => (t: Tensor) => b.forward(t)));
      return this.blocks[this.blocks.length - 1].forwardWithWeights(h)[1];
    });
  }

  /** Stochastic depth for fine-tuning: block i drops its residual branches with rate * i / (depth - 1). */
  setDropPath(rate: number): void {
    if (!(rate >= 0 && rate < 1)) throw new Error(`ViT: drop-path rate must be in [0, 1), got ${rate}`);
    const depth = this.blocks.length;
    this.blocks.forEach((b, i) => { b.dropPath.p = depth > 1 ? (rate * i) / (depth - 1) : 0; });
  }

  /**
   * The layer a parameter belongs to, for layer-wise learning-rate decay: 0 for the patch
   * embedding, cls token and position embeddings, i + 1 for blocks.i, depth + 1 for the final norm
   * and the head (BEiT's get_layer_id_for_vit).
   */
  layerId(name: string): number {
    if (/^(patch_embed|cls_token|pos_embed|mask_token)/.test(name)) return 0;
    const block = /^blocks\.(\d+)\./.exec(name);
    if (block) return Number(block[1]) + 1;
    return this.blocks.length + 1;
  }

  /** Resizes the patch position embeddings (bicubic, as timm) for images of another size. */
  interpolatePositionEmbedding(imageSize: number): void {
    if (imageSize % this.patchSize !== 0) throw new Error(`ViT: patch size ${this.patchSize} does not divide image size ${imageSize}`);
    const grid = imageSize / this.patchSize;
    if (grid === this.gridSize) return;
    const resized = tidy(() => noGrad(() => resizePositionTable(this.posEmbed, grid)));
    const trainable = this.posEmbed.requiresGrad;
    this.posEmbed.dispose();
    this.posEmbed = keep(resized).requiresGrad_(trainable);
    this._parameters.set('pos_embed', this.posEmbed);
    this.gridSize = grid;
  }
}

/**
 * A position table [1, 1 + g*g, dim] (cls row first) resized to another square grid: the patch rows
 * bicubically as an image (timm's resample_abs_pos_embed), the cls row kept.
 */
export function resizePositionTable(table: Tensor, grid: number): Tensor {
  return tidy(() => {
    const [, tokens, dim] = table.shape;
    const old = Math.round(Math.sqrt(tokens - 1));
    if (old * old !== tokens - 1) throw new Error(`resizePositionTable: ${tokens - 1} patch rows do not form a square grid`);
    const patches = table.slice(1, 1).reshape(1, old, old, dim).permute(0, 3, 1, 2);
    const resized = interpolate(patches, grid, 'bicubic').permute(0, 2, 3, 1).reshape(1, grid * grid, dim);
    return cat([table.slice(1, 0, 1), resized], 1);
  });
}

export const vitTiny = (o: ViTOptions = {}) => new VisionTransformer({ dim: 192, depth: 12, heads: 3, ...o });
export const vitSmall = (o: ViTOptions = {}) => new VisionTransformer({ dim: 384, depth: 12, heads: 6, ...o });
export const vitBase = (o: ViTOptions = {}) => new VisionTransformer({ dim: 768, depth: 12, heads: 12, ...o });
