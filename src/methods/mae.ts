/**
 * MAE (He et al., 2022, "Masked Autoencoders Are Scalable Vision Learners"): 75% of each image's
 * patches are masked at random; the ViT encoder sees only the visible quarter (plus its cls
 * token), which is what makes a step cheap; a light decoder puts a shared mask token at every
 * masked position, adds its own position embeddings and predicts every patch's pixels; the loss
 * is the MSE on the masked patches only, against per-patch normalised pixels by default
 * (`norm_pix_loss`, Table 1d). Decoder defaults: 8 blocks of width 512 (the paper's), or 4 of
 * width 128 with 4 heads for grids of 8x8 patches and less (ViT-Tiny/4 on 32x32 images).
 *
 * ```ts
 * const mae = new MAE(vitTiny({ imageSize: 32, patchSize: 4, posEmbed: 'sincos' }), {});
 * const { loss } = mae.step([images], null);    // images [B, 3, 32, 32]; masks drawn by the method
 * const { pred, mask } = mae.reconstruct(images); // [B, 64, 48], bool [B, 64]
 * ```
 */
import { maskedReconstructionLoss } from '../losses/index.js';
import { MAEDecoder, VisionTransformer, patchify, unpatchify } from '../models/index.js';
import { type Generator, type Tensor, cat, noGrad, tidy, where } from '../tensor/index.js';
import { randomPatchMask } from '../transforms/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import type { MethodRecipes } from './recipe.js';

/** 75% of the patches masked, per-patch normalised pixel targets (Sec. 4, Table 1). */
const DEFAULTS = { maskRatio: 0.75, normalizePixels: true };

export const MAE_RECIPE: MethodRecipes = {
  vit: {
    source: 'He et al., 2022 (MAE), App. A.1: one view (crop 0.2-1, flip, bicubic), random masking 75%, AdamW 1.5e-4 per 256 with betas (0.9, 0.95), '
      + 'weight decay 0.05, warm-up 40 of 800 epochs (here at most a tenth of the run, up to 10)',
    views: { views: [{ crop: { scale: [0.2, 1] }, horizontalFlip: 0.5, interpolation: 'bicubic' }], mask: { kind: 'random', ratio: DEFAULTS.maskRatio } },
    optimizer: 'adamw', baseLr: 1.5e-4, weightDecay: 0.05, betas: [0.9, 0.95], warmupEpochs: 10,
    vitOptions: { posEmbed: 'sincos' },   // fixed 2-D sin-cos position embeddings (Sec. 3, the encoder and decoder)
    options: { normalizePixels: DEFAULTS.normalizePixels },
  },
};

export interface MAEOptions {
  /** fraction of patches masked (default 0.75) */
  maskRatio?: number;
  /** standardise each target patch (default true) */
  normalizePixels?: boolean;
  decoderDim?: number;
  decoderDepth?: number;
  decoderHeads?: number;
  generator?: Generator;
}

export interface Reconstruction {
  /** predicted pixels of every patch [B, N, p*p*3] (in the target's units) */
  pred: Tensor;
  /** true where the patch was masked [B, N] */
  mask: Tensor;
}

export class MAE extends SSLMethod {
  readonly decoder: MAEDecoder;
  readonly maskRatio: number;

  /** the encoder runs on the visible patches only (He et al., 2022, Sec. 3) */
  override get visibleFraction(): number {
    return 1 - this.maskRatio;
  }
  readonly normalizePixels: boolean;

  constructor(readonly backbone: VisionTransformer, private readonly o: MAEOptions = {}) {
    super();
    if (!(backbone instanceof VisionTransformer)) throw new Error('MAE: the backbone must be a ViT (vit_tiny, vit_small, vit_base)');
    this.maskRatio = o.maskRatio ?? DEFAULTS.maskRatio;
    if (!(this.maskRatio > 0 && this.maskRatio < 1)) throw new Error(`MAE: maskRatio must be in (0, 1), got ${this.maskRatio}`);
    this.normalizePixels = o.normalizePixels ?? DEFAULTS.normalizePixels;
    const patches = backbone.gridSize * backbone.gridSize;
    const small = patches <= 64;
    this.registerModule('backbone', backbone);
    this.decoder = this.registerModule('decoder', new MAEDecoder({
      encoderDim: backbone.dim, patches, patchSize: backbone.patchSize,
      dim: o.decoderDim ?? (small ? 128 : 512), depth: o.decoderDepth ?? (small ? 4 : 8), heads: o.decoderHeads ?? (small ? 4 : 16),
      generator: o.generator,
    }));
  }

  step(views: Tensor[], mask: Tensor | null): MethodStep {
    const images = views[0];
    const { pred, mask: used } = this.forwardMasked(images, mask);
    return { loss: maskedReconstructionLoss(pred, patchify(images, this.backbone.patchSize), used, { normalizePixels: this.normalizePixels }) };
  }

  /** Predictions for every patch of `images` under `mask` (drawn when null); no gradients. */
  reconstruct(images: Tensor, mask: Tensor | null = null): Reconstruction {
    return noGrad(() => this.forwardMasked(images, mask));
  }

  /**
   * Pictures of a reconstruction, each [B, 3, H, W] in the units of `images`: the input with its
   * masked patches at 0, the predicted pixels (un-standardised with each true patch's statistics when
   * the targets were normalised, as MAE's visualisation), and the prediction with the visible patches pasted in.
   */
  reconstructImages(images: Tensor, mask: Tensor | null = null): { masked: Tensor; predicted: Tensor; pasted: Tensor } {
    return tidy(() => {
      const p = this.backbone.patchSize;
      const { pred, mask: m } = this.reconstruct(images, mask);
      const target = patchify(images, p); // [B, N, p*p*3]
      const pixels = this.normalizePixels ? pred.mul(target.var(-1, true, true).add(1e-6).sqrt()).add(target.mean(-1, true)) : pred;
      const hidden = m.unsqueeze(-1); // [B, N, 1]
      return {
        masked: unpatchify(where(hidden, 0, target), p),
        predicted: unpatchify(pixels, p),
        pasted: unpatchify(where(hidden, pixels, target), p),
      };
    });
  }

  private forwardMasked(images: Tensor, mask: Tensor | null): Reconstruction {
    const [batch] = images.shape;
    const patches = this.backbone.gridSize * this.backbone.gridSize;
    const m = mask ?? randomPatchMask(batch, patches, this.maskRatio, this.o.generator).mask;
    const { keepIds, idsRestore } = visibleFirst(m);
    const latent = this.backbone.forwardVisible(images, keepIds); // [B, 1 + V, dim]
    return { pred: this.decoder.forward(latent, idsRestore), mask: m };
  }
}

/**
 * The gather indices of a boolean mask [B, N] with the same number of masked patches in every
 * row: the visible patches' ids [B, V] and the permutation that puts [visible, masked] tokens
 * back in patch order [B, N] (MAE's ids_keep and ids_restore).
 */
export function visibleFirst(mask: Tensor): { keepIds: Tensor; idsRestore: Tensor } {
  const [b, n] = mask.shape;
  return tidy(() => {
    const visible = mask.logicalNot();
    const counts = visible.sum(1).toArray() as number[];
    const v = counts[0];
    if (counts.some((c) => c !== v) || v === 0) {
      throw new Error(`MAE: every image needs the same number of visible patches (>= 1), got ${[...new Set(counts)].join(', ')} of ${n}`);
    }
    const keepIds = visible.nonzero().select(1, 1).reshape(b, v); // row-major: ascending patch ids per row
    const maskedIds = mask.nonzero().select(1, 1).reshape(b, n - v);
    return { keepIds, idsRestore: cat([keepIds, maskedIds], 1).argsort(1) };
  });
}
