/**
 * SimCLR (Chen et al., 2020, "A Simple Framework for Contrastive Learning of Visual
 * Representations"): two augmented views of each image go through the backbone f and a
 * projection MLP g (Linear-BN-ReLU-Linear, Sec. 4.2 / B.9), and the NT-Xent loss (Eq. 1) pulls
 * each view's projection towards its partner's and away from the other 2N - 2 in the batch.
 * Both views pass in one forward (so batch norm sees the 2N images together), as the reference
 * implementation. Defaults: projection 2048 -> 128, temperature 0.5 (the paper's CIFAR-10 setting,
 * App. B.9; 0.1 with LARS at batch 4096 on ImageNet).
 *
 * ```ts
 * const simclr = new SimCLR(resnet18({ stem: 'cifar' }), { featureDim: 512 });
 * const { loss } = simclr.step([viewA, viewB], null);   // [B, 3, 32, 32] each
 * ```
 */
import { ntXentLoss } from '../losses/index.js';
import type { Layer } from '../nn/index.js';
import { simclrProjection } from '../models/index.js';
import { type Generator, type Tensor, cat } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';
import type { ViewTemplate } from '../transforms/index.js';

/** The head and temperature of the paper's CIFAR-10 setting (App. B.9). */
const DEFAULTS = { hiddenDim: 2048, projectionDim: 128, temperature: 0.5 };

/** SimCLR's augmentation (App. A): crop 0.08-1, flip, colour jitter 0.8/0.8/0.8/0.2 with p 0.8, grey 0.2, blur p 0.5. */
const SIMCLR_VIEW: ViewTemplate = {
  crop: { scale: [0.08, 1] }, horizontalFlip: 0.5, colorJitter: { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 },
  grayscale: 0.2, blur: { p: 0.5, sigma: [0.1, 2] },
};

export const SIMCLR_RECIPE: MethodRecipes = anyBackbone({
  source: 'Chen et al., 2020 (SimCLR): views App. A, colour strength 0.5 on CIFAR (App. B.9), head and temperature; '
    + 'optimizer as the MoCo CIFAR-10 demo (SGD 0.06 per 256, weight decay 5e-4; the paper\'s LARS 0.3, 1e-6 needs batches of thousands)',
  views: { views: [SIMCLR_VIEW, SIMCLR_VIEW], smallImageColorStrength: 0.5 },
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: DEFAULTS,
});

export interface SimCLROptions {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  temperature?: number;
  generator?: Generator;
}

export class SimCLR extends SSLMethod {
  readonly projection: Layer;
  readonly temperature: number;

  constructor(readonly backbone: Layer, o: SimCLROptions) {
    super();
    this.registerModule('backbone', backbone);
    this.projection = this.registerModule('projection', simclrProjection(o.featureDim, o.hiddenDim ?? DEFAULTS.hiddenDim, o.projectionDim ?? DEFAULTS.projectionDim, o.generator));
    this.temperature = o.temperature ?? DEFAULTS.temperature;
    if (!(this.temperature > 0)) throw new Error(`SimCLR: temperature must be positive, got ${this.temperature}`);
  }

  step(views: Tensor[]): MethodStep {
    if (views.length !== 2) throw new Error(`SimCLR: expected two views, got ${views.length}`);
    const n = views[0].size(0);
    const z = this.projection.forward(this.backbone.forward(cat(views, 0)));   // [2N, 128]
    const [z1, z2] = [z.narrow(0, 0, n), z.narrow(0, n, n)];                    // [N, 128] each
    return { loss: ntXentLoss(z1, z2, this.temperature), embeddings: [z1.detach(), z2.detach()] };
  }
}
