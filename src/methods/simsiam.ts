/**
 * SimSiam (Chen & He, 2021, "Exploring Simple Siamese Representation Learning", Alg. 1): one
 * network (backbone + 3-layer projection with BN, 2048) and a predictor (2048 -> 512 -> 2048); the
 * loss D(p1, stopgrad(z2)) / 2 + D(p2, stopgrad(z1)) / 2 with D the negative cosine. No negatives,
 * no momentum encoder: the stop-gradient is what prevents collapse (Sec. 4.1, Fig. 2), and
 * `stopGradient: false` reproduces the collapse the collapse monitor must catch.
 *
 * ```ts
 * const simsiam = new SimSiam(resnet18({ stem: 'cifar' }), { featureDim: 512 });
 * ```
 */
import type { Layer } from '../nn/index.js';
import { negativeCosine } from '../losses/index.js';
import { predictionHead, simsiamProjection } from '../models/index.js';
import { type Generator, type Tensor } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { AUG_PLUS_VIEW } from './mocoV2.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';

/** Projection 2048 wide; the predictor's hidden layer a quarter of it (Sec. 3). FastSiam's network too. */
export const SIMSIAM_DEFAULTS = { projectionDim: 2048 };

export const SIMSIAM_RECIPE: MethodRecipes = anyBackbone({
  source: 'Chen & He, 2021 (SimSiam): MoCo v2\'s aug+ views, heads; SGD 0.06 per 256 with weight decay 5e-4 (the paper\'s CIFAR-10 setting: SGD 0.03 per 256)',
  views: { views: [AUG_PLUS_VIEW, AUG_PLUS_VIEW] },
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: SIMSIAM_DEFAULTS,
});

export interface SimSiamOptions {
  featureDim: number;
  projectionDim?: number;
  predictorHiddenDim?: number;
  stopGradient?: boolean;
  generator?: Generator;
}

export class SimSiam extends SSLMethod {
  readonly encoder: Encoder;
  readonly predictor: Layer;
  readonly stopGradient: boolean;
  override readonly backboneKey = 'encoder.backbone';

  constructor(readonly backbone: Layer, o: SimSiamOptions) {
    super();
    const dim = o.projectionDim ?? SIMSIAM_DEFAULTS.projectionDim;
    this.encoder = this.registerModule('encoder', new Encoder(backbone, simsiamProjection(o.featureDim, dim, o.generator)));
    this.predictor = this.registerModule('predictor', predictionHead(dim, o.predictorHiddenDim ?? Math.max(1, Math.round(dim / 4)), dim, o.generator));
    this.stopGradient = o.stopGradient ?? true;
  }

  step(views: Tensor[]): MethodStep {
    const [z1, z2] = forwardViews(this.encoder, views);
    const [p1, p2] = forwardViews(this.predictor, [z1, z2]);
    const o = { stopGradient: this.stopGradient };
    const loss = negativeCosine(p1, z2, o).add(negativeCosine(p2, z1, o)).div(2);
    return { loss, embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }
}
