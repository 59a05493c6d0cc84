/**
 * I-JEPA (Assran et al., 2023, "Self-Supervised Learning from Images with a Joint-Embedding
 * Predictive Architecture"): from one view of an image, without pixel augmentations, a context
 * encoder (the ViT being trained) sees one large block of patches with every target patch removed;
 * a narrow predictor ViT, given the context's tokens and a mask token at each position of a target
 * block, predicts the target encoder's representations of that block's patches, for 4 blocks of
 * 15-20% of the image; the target encoder is an EMA of the context encoder (momentum 0.996 -> 1,
 * linear) that sees the whole image, its outputs layer-normalised; the loss is the squared L2
 * distance in representation space (Eq. 1). Features for evaluation: the mean patch token (`pool:
 * 'mean'`; the reference's ViT has no [CLS] token; here it has one, which no loss term reads) of the
 * context encoder (the paper evaluates the target encoder, which the context encoder approaches as
 * the momentum reaches 1).
 *
 * ```ts
 * const ijepa = new IJEPA(vitTiny({ imageSize: 32, patchSize: 4, posEmbed: 'sincos', pool: 'mean' }), {});
 * const { loss } = ijepa.step([images], null);   // images [B, 3, 32, 32]; masks drawn by the method
 * ```
 */
import { jepaLoss } from '../losses/index.js';
import { JEPAPredictor, VisionTransformer, gatherBlocks } from '../models/index.js';
import { emaUpdate, linearMomentum, momentumEncoder } from '../optim/index.js';
import { Generator, type Tensor, layerNorm, noGrad, tensor } from '../tensor/index.js';
import { type MultiBlockMask, multiBlockMask } from '../transforms/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import type { MethodRecipes } from './recipe.js';

/**
 * 4 target blocks, a target encoder at 0.996 -> 1, a predictor 384 wide (at most the encoder's) and
 * 6 blocks deep (the reference's ViT-B and ViT-L configs; 12 for ViT-H), or 2 blocks on grids of
 * 8 x 8 patches and less.
 */
const DEFAULTS = { targets: 4, emaMomentum: 0.996, predictorDim: 384, predictorDepth: 6 };

export const IJEPA_RECIPE: MethodRecipes = {
  vit: {
    source: 'Assran et al., 2023 (I-JEPA), Sec. 4 and App. A (the reference in1k configs): one view (crop 0.3-1, no flip, no colour), '
      + '4 target blocks of 15-20% (aspect 0.75-1.5), a context block of 85-100%, AdamW 1e-3 at batch 2048 (1.25e-4 per 256), '
      + 'weight decay 0.04 -> 0.4, warm-up 40 of 300 epochs (here at most a tenth of the run, up to 10), target momentum 0.996 -> 1',
    views: { views: [{ crop: { scale: [0.3, 1] } }] },
    optimizer: 'adamw', baseLr: 1.25e-4, weightDecay: 0.04, finalWeightDecay: 0.4, warmupEpochs: 10,
    vitOptions: { posEmbed: 'sincos', pool: 'mean' },
    options: { emaMomentum: DEFAULTS.emaMomentum },
  },
};

export interface IJEPAOptions {
  /** target blocks per image (default 4) */
  targets?: number;
  /** where the target encoder's momentum starts (default 0.996; linear to 1) */
  momentum?: number;
  /** the predictor's width (default min(384, the encoder's)) and depth (default 6; 2 on grids up to 8 x 8) */
  predictorDim?: number;
  predictorDepth?: number;
  /** the distance in representation space: squared L2 (the paper, default) or the reference code's smooth L1 */
  distance?: 'squared' | 'smoothL1';
  generator?: Generator;
}

export class IJEPA extends SSLMethod {
  readonly target: VisionTransformer;
  readonly predictor: JEPAPredictor;
  readonly targetBlocks: number;
  /** int64 [1]: the batches of masks drawn so far, saved with the method, so that a resumed run draws the masks it would have */
  readonly masksDrawn: Tensor;
  private readonly momentum: number;
  private readonly maskSeed: number;

  constructor(readonly backbone: VisionTransformer, private readonly o: IJEPAOptions = {}) {
    super();
    if (!(backbone instanceof VisionTransformer)) throw new Error('I-JEPA: the backbone must be a ViT (vit_tiny, vit_small, vit_base)');
    this.targetBlocks = o.targets ?? DEFAULTS.targets;
    this.momentum = o.momentum ?? DEFAULTS.emaMomentum;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`I-JEPA: momentum must be in [0, 1], got ${this.momentum}`);
    const heads = backbone.blocks[0]?.attn.heads ?? 1;
    // the reference gives the predictor the encoder's heads; its width must divide among them
    const dim = o.predictorDim ?? Math.min(DEFAULTS.predictorDim, backbone.dim);
    if (dim % heads !== 0) throw new Error(`I-JEPA: the predictor's width ${dim} must divide among the encoder's ${heads} heads`);
    this.maskSeed = o.generator?.seed ?? 0;
    this.masksDrawn = this.registerBuffer('masks_drawn', tensor([0], { dtype: 'int64' }));
    this.registerModule('backbone', backbone);
    this.target = this.registerModule('target', momentumEncoder(backbone));
    this.predictor = this.registerModule('predictor', new JEPAPredictor({
      encoderDim: backbone.dim, grid: backbone.gridSize, dim, heads,
      depth: o.predictorDepth ?? (backbone.gridSize <= 8 ? 2 : DEFAULTS.predictorDepth), generator: o.generator,
    }));
  }

  /** `views[0]`: images [B, 3, H, W] at the ViT's size; the context and target blocks are drawn here. */
  step(views: Tensor[]): MethodStep {
    const images = views[0];
    const b = images.size(0);
    const { context, targets } = this.drawMasks(b); // [B, C], [M, B, T]
    // the target encoder's representation of each target patch, layer-normalised: [M * B, T, D]
    const wanted = noGrad(() => layerNorm(gatherBlocks(this.target.forwardTokens(images).slice(1, 1), targets), [this.backbone.dim]));
    const encoded = this.backbone.forwardVisible(images, context).slice(1, 1); // [B, C, D], the [CLS] token dropped
    const predicted = this.predictor.forward(encoded, context, targets); // [M * B, T, D]
    return { loss: jepaLoss(predicted, wanted, this.o.distance), metrics: { context_patches: context.size(1), target_patches: targets.size(2) } };
  }

  /**
   * The next batch's context and target blocks on the ViT's patch grid, from a generator seeded by the
   * method's seed and the batches drawn before (a checkpoint holds that count: a run resumed from it
   * draws the same masks as one never stopped).
   */
  drawMasks(batch: number): MultiBlockMask {
    const drawn = this.masksDrawn.item();
    this.masksDrawn.fill_(drawn + 1);
    const generator = new Generator(this.maskSeed * 1_000_003 + drawn);
    return multiBlockMask(batch, this.backbone.gridSize, this.backbone.gridSize, { targets: this.targetBlocks }, generator);
  }

  override afterStep(progress: number): void {
    emaUpdate(this.target, this.backbone, linearMomentum(this.momentum, progress));
  }
}
