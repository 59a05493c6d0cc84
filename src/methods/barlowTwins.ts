/**
 * Barlow Twins (Zbontar et al., 2021, "Self-Supervised Learning via Redundancy Reduction"):
 * backbone + projector (3 layers 8192 wide with BN + ReLU; narrower on small data), the
 * cross-correlation of the two views' embeddings pushed to the identity (lambda = 5e-3), the BYOL
 * augmentation recipe.
 *
 * ```ts
 * const bt = new BarlowTwins(resnet18({ stem: 'cifar' }), { featureDim: 512, hiddenDim: 2048 });
 * ```
 */
import { barlowTwinsLoss } from '../losses/index.js';
import { type Layer, MLP } from '../nn/index.js';
import { type Generator, type Tensor, allGatherWithGrad } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { BYOL_VIEWS } from './byol.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';

/** The projector: three layers 8192 wide ; the off-diagonal weight. */
const DEFAULTS = { hiddenDim: 8192, lambda: 5e-3 };

export const BARLOW_TWINS_RECIPE: MethodRecipes = anyBackbone({
  source: 'Zbontar et al., 2021 (Barlow Twins): BYOL\'s views, projector 8192 wide, lambda 5e-3; SGD 0.06 per 256, weight decay 5e-4 (the paper\'s LARS 0.2 per 256, 1.5e-6)',
  views: BYOL_VIEWS,
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: DEFAULTS,
});

export interface BarlowTwinsOptions {
  featureDim: number;
  /** width of the projector's layers (default 8192) */
  hiddenDim?: number;
  lambda?: number;
  generator?: Generator;
}

export class BarlowTwins extends SSLMethod {
  readonly encoder: Encoder;
  readonly lambda: number;
  override readonly backboneKey = 'encoder.backbone';

  constructor(readonly backbone: Layer, o: BarlowTwinsOptions) {
    super();
    const d = o.hiddenDim ?? DEFAULTS.hiddenDim;
    this.encoder = this.registerModule('encoder', new Encoder(backbone, new MLP([o.featureDim, d, d, d], { norm: 'batch', generator: o.generator })));
    this.lambda = o.lambda ?? DEFAULTS.lambda;
  }

  step(views: Tensor[]): MethodStep {
    const [z1, z2] = forwardViews(this.encoder, views);
    // Batch statistics over every rank's embeddings (the official code's all-gather / all-reduce):
    // each rank computes the whole batch's loss, and the gather's backward returns each its share.
    return { loss: barlowTwinsLoss(allGatherWithGrad(z1), allGatherWithGrad(z2), this.lambda), embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }
}
