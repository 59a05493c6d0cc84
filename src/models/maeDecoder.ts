/**
 * MAE decoder (He et al., 2022): embeds the encoded visible tokens to the decoder width,
 * puts a shared mask token at every masked position (unshuffling with idsRestore), adds
 * fixed sin-cos position embeddings, runs a few transformer blocks and predicts the
 * pixels of every patch. Keys as MAE: decoder_embed, mask_token, decoder_pos_embed,
 * decoder_blocks.N, decoder_norm, decoder_pred.
 *
 * ```ts
 * const decoder = new MAEDecoder({ encoderDim: 192, patches: 64, patchSize: 4, dim: 128, depth: 4, heads: 4 });
 * const pred = decoder.forward(latent, idsRestore);   // [B, 1 + V, 192] -> [B, 64, 48]
 * ```
 */
import { type Generator, type Tensor, cat, empty, pipe } from '../tensor/index.js';
import { LayerNorm, Linear, Module, ModuleList, init } from '../nn/index.js';
import { gatherTokens } from './patches.js';
import { Block, sincosPositionTable } from './vit.js';

export interface MAEDecoderOptions {
  encoderDim: number;
  patches: number;
  patchSize: number;
  dim?: number;
  depth?: number;
  heads?: number;
  mlpRatio?: number;
  channels?: number;
  generator?: Generator;
}

export class MAEDecoder extends Module {
  readonly embed: Linear;
  readonly maskToken: Tensor; // [1, 1, dim]
  readonly posEmbed: Tensor; // [1, 1 + patches, dim], fixed
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly pred: Linear;
  readonly dim: number;

  constructor(readonly o: MAEDecoderOptions) {
    super();
    const g = o.generator;
    this.dim = o.dim ?? 512;
    const grid = Math.round(Math.sqrt(o.patches));
    if (grid * grid !== o.patches) throw new Error(`MAEDecoder: ${o.patches} patches do not form a square grid`);
    this.embed = this.registerModule('decoder_embed', new Linear(o.encoderDim, this.dim, { generator: g }));
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty([1, 1, this.dim]), 0.02, g));
    this.posEmbed = this.registerParameter('decoder_pos_embed', sincosPositionTable(grid, this.dim)).requiresGrad_(false);
    this.blocks = this.registerModule('decoder_blocks', new ModuleList(Array.from({ length: o.depth ?? 8 }, () =>
      new Block(this.dim, o.heads ?? 16, o.mlpRatio ?? 4, 0, true, g)))).items;
    this.norm = this.registerModule('decoder_norm', new LayerNorm(this.dim, { eps: 1e-6 }));
    this.pred = this.registerModule('decoder_pred', new Linear(this.dim, o.patchSize * o.patchSize * (o.channels ?? 3), { generator: g }));
    for (const [, m] of this.namedModules()) {
      if (m instanceof Linear) {
        init.xavierUniform_(m.weight, g); // MAE's _init_weights
        if (m.bias) init.constant_(m.bias, 0);
      }
    }
  }

  /** latent [B, 1 + V, encoderDim] (cls first) and idsRestore [B, patches] -> pixels [B, patches, p*p*C]. */
  forward(latent: Tensor, idsRestore: Tensor): Tensor {
    const x = this.embed.forward(latent); // [B, 1 + V, dim]
    const [b, tokens] = x.shape;
    const visible = tokens - 1;
    const masks = this.maskToken.expand(b, this.o.patches - visible, this.dim);
    const shuffled = cat([x.slice(1, 1), masks], 1); // [B, patches, dim] in shuffled order
    const restored = gatherTokens(shuffled, idsRestore); // back to patch order
    let h = cat([x.slice(1, 0, 1), restored], 1).add(this.posEmbed);
    h = pipe(h, ...this.blocks.map((blk) => (t: Tensor) => blk.forward(t)));
    return this.pred.forward(this.norm.forward(h)).slice(1, 1); // [B, patches, p*p*C], cls dropped
  }
}
