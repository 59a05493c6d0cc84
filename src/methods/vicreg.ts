/**
 * VICReg (Bardes, Ponce & LeCun, 2022, "Variance-Invariance-Covariance Regularization"): backbone
 * + expander (3 layers 8192 wide with BN + ReLU; narrower on small data), the loss 25 invariance +
 * 25 variance + 1 covariance on the two views' embeddings, the BYOL augmentation recipe.
 *
 * ```ts
 * const vicreg = new VICReg(resnet18({ stem: 'cifar' }), { featureDim: 512, hiddenDim: 2048 });
 * ```
 */
import { type VicregWeights, vicregLoss } from '../losses/index.js';
import { type Layer, MLP } from '../nn/index.js';
import { type Generator, type Tensor, allGatherWithGrad } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { BYOL_VIEWS } from './byol.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';

/** The expander: three layers 8192 wide. */
const DEFAULTS = { hiddenDim: 8192 };

export const VICREG_RECIPE: MethodRecipes = anyBackbone({
  source: 'Bardes, Ponce & LeCun, 2022 (VICReg): BYOL\'s views, expander 8192 wide, loss weights 25/25/1; SGD 0.06 per 256, weight decay 5e-4 (the paper\'s LARS 0.2 per 256, 1e-6)',
  views: BYOL_VIEWS,
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: DEFAULTS,
});

export interface VICRegOptions {
  featureDim: number;
  hiddenDim?: number;
  weights?: VicregWeights;
  generator?: Generator;
}

export class VICReg extends SSLMethod {
  readonly encoder: Encoder;
  override readonly backboneKey = 'encoder.backbone';

  constructor(readonly backbone: Layer, private readonly o: VICRegOptions) {
    super();
    const d = o.hiddenDim ?? DEFAULTS.hiddenDim;
    this.encoder = this.registerModule('encoder', new Encoder(backbone, new MLP([o.featureDim, d, d, d], { norm: 'batch', generator: o.generator })));
  }

  step(views: Tensor[]): MethodStep {
    const [z1, z2] = forwardViews(this.encoder, views);
    // Batch statistics over every rank's embeddings (the official code's all-gather / all-reduce):
    // each rank computes the whole batch's loss, and the gather's backward returns each its share.
    return { loss: vicregLoss(allGatherWithGrad(z1), allGatherWithGrad(z2), this.o.weights).loss, embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }
}
