/**
 * SimMIM (Xie et al., 2022, "SimMIM: A Simple Framework for Masked Image Modeling"): 60% of an
 * image's squares of 32 px (two 16-px patches a side; 8 px at 32 px) are masked at random; the
 * encoder sees the whole image with a learned mask token in place of each masked patch (a ViT's
 * patch embeddings, or a ResNet's stem output at every position under a masked square); a linear
 * head (Sec. 3.3: a 1x1 convolution) predicts each output position's pixels, and the loss is the
 * mean absolute error on the masked pixels only (Sec. 3.4, its L1), against the (normalised) input.
 * Features for evaluation: a ViT's mean patch token (`pool: 'mean'`), a ResNet's pooled map.
 *
 * ```ts
 * const simmim = new SimMIM(vitTiny({ imageSize: 32, patchSize: 4, layerScale: 0.1, pool: 'mean' }), {});
 * const { loss } = simmim.step([images], masks);   // images [B, 3, 32, 32], masks bool [B, 16] (8-px squares)
 * ```
 */
import { maskedReconstructionLoss } from '../losses/index.js';
import { ResNet, VisionTransformer, patchify, spreadCells, unpatchify } from '../models/index.js';
import { Linear, init } from '../nn/index.js';
import { type Generator, type Tensor, empty } from '../tensor/index.js';
import { randomPatchMask } from '../transforms/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import type { MethodRecipe, MethodRecipes } from './recipe.js';

/** 60% of the squares masked, squares of 2x2 ViT patches (32 px on 16-px patches; Sec. 4.1.1, Table 1). */
const DEFAULTS = { maskRatio: 0.6, cellPatches: 2 };

const SIMMIM_VIT_RECIPE: MethodRecipe = {
  source: 'Xie et al., 2022 (SimMIM), App. A and its ViT-B config: one view (crop 0.67-1, flip), random masking of 60% of 32-px squares, '
    + 'AdamW 1e-4 per 512 (5e-5 per 256), weight decay 0.05, warm-up 10 epochs, layer scale 0.1, features: the mean patch token',
  views: { views: [{ crop: { scale: [0.67, 1], ratio: [3 / 4, 4 / 3] }, horizontalFlip: 0.5 }], mask: { kind: 'random', ratio: DEFAULTS.maskRatio, cellPatches: DEFAULTS.cellPatches } },
  optimizer: 'adamw', baseLr: 5e-5, weightDecay: 0.05, warmupEpochs: 10,
  vitOptions: { layerScale: 0.1, pool: 'mean' },
  options: {},
};

export const SIMMIM_RECIPE: MethodRecipes = {
  vit: SIMMIM_VIT_RECIPE,
  resnet: {
    ...SIMMIM_VIT_RECIPE,
    source: 'SimMIM\'s recipe on a ResNet (the paper trains Swin and ViT only): the mask token at the stem\'s output, squares of the last map\'s stride '
      + '(8 px with the CIFAR stem, 32 px with the ImageNet stem, as the recipe\'s 2x2 patches of 4 / 16 px)',
    vitOptions: undefined,
  },
};

export interface SimMIMOptions {
  /** fraction of squares masked when the step is given no mask (default 0.6) */
  maskRatio?: number;
  generator?: Generator;
}

export class SimMIM extends SSLMethod {
  /** [1, 1, dim] for a ViT, [1, stemChannels, 1, 1] for a ResNet */
  readonly maskToken: Tensor;
  /** a position's feature -> its unit x unit x 3 pixels (unit: the ViT's patch, the ResNet's output stride) */
  readonly head: Linear;
  /** pixels a side each output position predicts */
  readonly unit: number;
  readonly maskRatio: number;

  constructor(readonly backbone: VisionTransformer | ResNet, private readonly o: SimMIMOptions = {}) {
    super();
    if (!(backbone instanceof VisionTransformer || backbone instanceof ResNet)) throw new Error('SimMIM: the backbone must be a ViT or a ResNet');
    this.maskRatio = o.maskRatio ?? DEFAULTS.maskRatio;
    if (!(this.maskRatio > 0 && this.maskRatio < 1)) throw new Error(`SimMIM: maskRatio must be in (0, 1), got ${this.maskRatio}`);
    this.registerModule('backbone', backbone);
    const vit = backbone instanceof VisionTransformer;
    this.unit = vit ? backbone.patchSize : backbone.outputStride;
    this.maskToken = this.registerParameter('mask_token', init.truncNormal_(empty(vit ? [1, 1, backbone.dim] : [1, backbone.stemChannels, 1, 1]), 0.02, o.generator));
    this.head = this.registerModule('head', new Linear(vit ? backbone.dim : backbone.featureDim, this.unit * this.unit * 3, { generator: o.generator }));
  }

  /** `mask`: bool [B, g * g], true where a square of side H / g is masked (drawn when null). */
  step(views: Tensor[], mask: Tensor | null): MethodStep {
    const images = views[0];
    const [b, , side] = images.shape;
    const m = mask ?? this.drawMask(b, side);
    const grid = Math.round(Math.sqrt(m.shape[1]));
    const cell = side / grid;
    if (m.ndim !== 2 || m.shape[0] !== b || grid * grid !== m.shape[1] || !Number.isInteger(cell)) {
      throw new Error(`SimMIM: expected a mask [${b}, g * g] of squares dividing the ${side}-px side, got [${m.shape.join(', ')}]`);
    }
    const predicted = this.predictPixels(images, m.reshape(b, grid, grid)); // [B, 3, H, W]
    // per square: SimMIM's mean absolute error over the masked pixels
    return { loss: maskedReconstructionLoss(patchify(predicted, cell), patchify(images, cell), m, { distance: 'absolute' }) };
  }

  /** Random masks of `maskRatio` of the squares: of 2x2 patches on a ViT, of the output stride on a ResNet. */
  private drawMask(batch: number, side: number): Tensor {
    const cell = this.backbone instanceof VisionTransformer ? this.unit * DEFAULTS.cellPatches : this.unit;
    const grid = side / cell;
    return randomPatchMask(batch, grid * grid, this.maskRatio, this.o.generator).mask;
  }

  /** The head's pixels for every position of the masked encoding: [B, 3, H, W]. `cells`: bool [B, g, g]. */
  private predictPixels(images: Tensor, cells: Tensor): Tensor {
    const [b, g] = cells.shape;
    let positions: Tensor; // [B, P, features]
    if (this.backbone instanceof VisionTransformer) {
      const grid = this.backbone.gridSize;
      if (grid % g !== 0) throw new Error(`SimMIM: the mask's ${g}x${g} squares must each cover whole ${this.unit}-px patches (the ViT's grid is ${grid}x${grid})`);
      const factor = grid / g;
      const patchMask = spreadCells(cells, factor).reshape(b, grid * grid); // [B, N]
      positions = this.backbone.forwardMasked(images, patchMask, this.maskToken).slice(1, 1); // [B, N, dim]
    } else {
      const map = this.backbone.forwardMaskedMap(images, cells, this.maskToken); // [B, C, h, w]
      positions = map.permute(0, 2, 3, 1).reshape(b, -1, map.shape[1]); // [B, h * w, C]
    }
    return unpatchify(this.head.forward(positions), this.unit); // [B, P, unit * unit * 3] -> [B, 3, H, W]
  }
}
