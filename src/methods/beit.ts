/**
 * BEiT (Bao et al., 2022, "BEiT: BERT Pre-Training of Image Transformers"): about 40% of the
 * patches, in blocks (Alg. 1), have their embeddings replaced by a learned mask token; the ViT
 * (absolute position embeddings, LayerScale) encodes the corrupted sequence and a linear head
 * predicts, at each masked position only, the id a visual tokenizer gives the original patch:
 * cross-entropy over the tokenizer's vocabulary (Eq. 1). The tokenizer is frozen and not part of
 * the trained module (DALL-E's dVAE in the paper; here a VQ-VAE or k-means trained by
 * `selfsup tokenizer train`, on the same patch grid as the ViT); the method owns it and disposes it.
 * Features for evaluation are the mean of the patch tokens (`pool: 'mean'`, Sec. 2.6).
 *
 * ```ts
 * const tok = loadTokenizer('tok.safetensors');
 * const beit = new BEiT(vitTiny({ imageSize: 32, patchSize: 4, layerScale: 0.1, pool: 'mean' }), tok, { viewNormalize: normalize });
 * const { loss, metrics } = beit.step([images], blockwiseMask(...));   // metrics['beit/masked_accuracy']
 * ```
 */
import { BEiTHead, VisionTransformer } from '../models/index.js';
import { type Generator, type Tensor, crossEntropy, empty, noGrad } from '../tensor/index.js';
import { type Normalization, type VisualTokenizer, renormalize } from '../tokenizers/index.js';
import { init } from '../nn/index.js';
import { blockwiseMask } from '../transforms/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import type { MethodRecipes } from './recipe.js';

/** About 40% of the patches masked, in blocks (Sec. 2.5). */
const MASK_RATIO = 0.4;

export const BEIT_RECIPE: MethodRecipes = {
  vit: {
    source: 'Bao et al., 2022 (BEiT), App. F: one view (crop 0.08-1, flip, jitter 0.4), blockwise masking 40%, AdamW 1.5e-3 at batch 2048 '
      + '(1.875e-4 per 256), weight decay 0.05, warm-up 10 epochs, layer scale 0.1',
    views: { views: [{ crop: { scale: [0.08, 1] }, horizontalFlip: 0.5, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0 } }], mask: { kind: 'blockwise', ratio: MASK_RATIO } },
    optimizer: 'adamw', baseLr: 1.875e-4, weightDecay: 0.05, warmupEpochs: 10,
    vitOptions: { layerScale: 0.1, pool: 'mean' },   // layer scale 0.1 (App. F); features: the mean of the patch tokens (Sec. 2.6)
    options: {},
  },
};

export interface BEiTOptions {
  /** the normalisation of the views the method is given (the tokenizer's own is applied for its input) */
  viewNormalize: Normalization;
  /** fraction of patches masked when no mask is given (default 0.4) */
  maskRatio?: number;
  generator?: Generator;
}

export class BEiT extends SSLMethod {
  readonly maskToken: Tensor; // [1, 1, dim]
  readonly head: BEiTHead;

  constructor(readonly backbone: VisionTransformer, readonly tokenizer: VisualTokenizer, private readonly o: BEiTOptions) {
    super();
    if (!(backbone instanceof VisionTransformer)) throw new Error('BEiT: the backbone must be a ViT (vit_tiny, vit_small, vit_base)');
    if (tokenizer.patchSize !== backbone.patchSize) {
      throw new Error(`BEiT: the tokenizer describes ${tokenizer.patchSize}x${tokenizer.patchSize} patches but the ViT's are ${backbone.patchSize}x${backbone.patchSize}; train a tokenizer with --patch-size ${backbone.patchSize}`);
    }
    this.registerModule('backbone', backbone);
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty([1, 1, backbone.dim]), 0.02, o.generator));
    this.head = this.registerModule('head', new BEiTHead(backbone.dim, tokenizer.vocabulary, o.generator));
  }

  override dispose(): void {
    super.dispose();
    this.tokenizer.dispose();
  }

  step(views: Tensor[], mask: Tensor | null): MethodStep {
    const images = views[0];
    const [b] = images.shape;
    const grid = this.backbone.gridSize;
    const m = mask ?? blockwiseMask(b, grid, grid, { maskPatches: Math.round((this.o.maskRatio ?? MASK_RATIO) * grid * grid), minPatches: grid <= 8 ? 4 : 16 }, this.o.generator);
    const targets = noGrad(() => {
      const ids = this.tokenizer.tokenize(renormalize(images, this.o.viewNormalize, this.tokenizer.normalize)); // [B, N]
      return ids.reshape(-1).indexSelect(0, m.reshape(-1).nonzero().squeeze(1)); // [M], row-major as the head's rows
    });
    const logits = this.head.forward(this.backbone.forwardMasked(images, m, this.maskToken), m); // [M, vocabulary]
    const loss = crossEntropy(logits, targets);
    const accuracy = noGrad(() => logits.argmax(1).eq(targets).float().mean().item());
    return { loss, metrics: { 'beit/masked_accuracy': accuracy } };
  }
}
