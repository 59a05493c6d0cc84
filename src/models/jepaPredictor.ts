/**
 * I-JEPA's predictor (Assran et al., 2023, Sec. 3 "Prediction"): a narrow ViT that takes the
 * context encoder's patch tokens, embeds them to its width with their (fixed sin-cos) position
 * embeddings, appends for one target block a shared mask token plus each target patch's position
 * embedding, runs its blocks and projects the mask tokens' outputs back to the encoder's width.
 * It runs once per target block, all blocks in one batch (the context repeated per block); its last
 * block computes the mask tokens' outputs only, the context tokens giving their keys and values (the
 * reference computes every token's and drops the context's: the same predictions, less work).
 * Keys as the reference: predictor_embed, mask_token, predictor_pos_embed, predictor_blocks.N,
 * predictor_norm, predictor_proj.
 *
 * ```ts
 * const predictor = new JEPAPredictor({ encoderDim: 192, grid: 8, dim: 96, depth: 2, heads: 3 });
 * const pred = predictor.forward(context, contextIds, targetIds); // [B, C, 192], [B, C], [M, B, T] -> [M * B, T, 192]
 * ```
 */
import { LayerNorm, Linear, Module, ModuleList, init } from '../nn/index.js';
import { type Generator, type Tensor, cat, empty, noGrad, pipe, tidy } from '../tensor/index.js';
import { Block, sincosPositionEmbedding } from './vit.js';

export interface JEPAPredictorOptions {
  /** the context encoder's width */
  encoderDim: number;
  /** patches a side */
  grid: number;
  dim?: number;
  depth?: number;
  heads?: number;
  mlpRatio?: number;
  generator?: Generator;
}

export class JEPAPredictor extends Module {
  readonly embed: Linear;
  readonly maskToken: Tensor; // [1, 1, dim]
  readonly posEmbed: Tensor; // [1, grid * grid, dim], fixed
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly proj: Linear;
  readonly dim: number;

  constructor(readonly o: JEPAPredictorOptions) {
    super();
    const g = o.generator;
    this.dim = o.dim ?? 384;
    const depth = o.depth ?? 6;
    this.embed = this.registerModule('predictor_embed', new Linear(o.encoderDim, this.dim, { generator: g }));
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty([1, 1, this.dim]), 0.02, g));
    this.posEmbed = this.registerParameter('predictor_pos_embed', tidy(() => sincosPositionEmbedding(o.grid, this.dim).unsqueeze(0))).requiresGrad_(false);
    this.blocks = this.registerModule('predictor_blocks', new ModuleList(Array.from({ length: depth }, () =>
      new Block(this.dim, o.heads ?? 6, o.mlpRatio ?? 4, 0, true, g)))).items;
    this.norm = this.registerModule('predictor_norm', new LayerNorm(this.dim, { eps: 1e-6 }));
    this.proj = this.registerModule('predictor_proj', new Linear(this.dim, o.encoderDim, { generator: g }));
    for (const [, m] of this.namedModules()) {
      if (m instanceof Linear) {
        init.truncNormal_(m.weight, 0.02, g);
        if (m.bias) init.constant_(m.bias, 0);
      }
    }
    // the reference's fix_init_weight: block i's output projections scaled by 1 / sqrt(2 (i + 1))
    noGrad(() => this.blocks.forEach((block, i) => {
      for (const w of [block.attn.proj.weight, block.mlp.fc2.weight]) w.div_(Math.sqrt(2 * (i + 1)));
    }));
  }

  /**
   * context [B, C, encoderDim] (the context encoder's patch tokens), contextIds [B, C] and targetIds
   * [M, B, T] (int64 patch ids) -> the predicted target tokens [M * B, T, encoderDim], block-major.
   */
  forward(context: Tensor, contextIds: Tensor, targetIds: Tensor): Tensor {
    const [blocks, b, t] = targetIds.shape;
    const table = this.posEmbed.squeeze(0); // [N, dim]
    const positionsOf = (ids: Tensor) => table.indexSelect(0, ids.flatten()).reshape(...ids.shape, this.dim);
    const x = this.embed.forward(context).add(positionsOf(contextIds)); // [B, C, dim]
    const c = x.size(1);
    const queries = this.maskToken.add(positionsOf(targetIds.reshape(blocks * b, t))); // [M * B, T, dim], block-major, as the predictions
    const h = cat([x.repeat(blocks, 1, 1), queries], 1); // [M * B, C + T, dim]
    const last = this.blocks[this.blocks.length - 1];
    const before = pipe(h, ...this.blocks.slice(0, -1).map((blk) => (s: Tensor) => blk.forward(s)));
    // only the mask tokens' outputs are read: the last block computes those alone (the context still answers)
    const predicted = last ? last.forwardRows(before, (s) => s.slice(1, c)) : before.slice(1, c); // [M * B, T, dim]
    return this.proj.forward(this.norm.forward(predicted)); // [M * B, T, encoderDim]
  }
}
