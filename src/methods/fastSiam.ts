/**
 * FastSiam (Pototzky et al., 2022, "FastSiam: Resource-Efficient Self-supervised Learning on a Single
 * GPU"): SimSiam's network (projection 2048 with BN, predictor 2048 -> 512 -> 2048) trained on K views
 * of each image (4 in the paper), each view's prediction regressing the mean of the other views'
 * projections (fastSiamLoss): a steadier target, so small batches on one machine train well.
 *
 * ```ts
 * const fastsiam = new FastSiam(resnet18({ stem: 'cifar' }), { featureDim: 512 });
 * const { loss } = fastsiam.step([v1, v2, v3, v4], null);
 * ```
 */
import { fastSiamLoss } from '../losses/index.js';
import type { Layer } from '../nn/index.js';
import { type Tensor } from '../tensor/index.js';
import type { MethodStep } from './method.js';
import { AUG_PLUS_VIEW } from './mocoV2.js';
import { SIMSIAM_DEFAULTS, SimSiam, type SimSiamOptions } from './simsiam.js';
import { forwardCrops } from './twoViewEncoder.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';

export const FASTSIAM_RECIPE: MethodRecipes = anyBackbone({
  source: 'Pototzky et al., 2022 (FastSiam): 4 views of MoCo v2\'s aug+, SimSiam\'s heads; SGD 0.06 per 256, weight decay 5e-4 (SimSiam\'s CIFAR setting)',
  views: { views: [AUG_PLUS_VIEW, AUG_PLUS_VIEW, AUG_PLUS_VIEW, AUG_PLUS_VIEW] },
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: SIMSIAM_DEFAULTS,
});

/** SimSiam's options; the stop-gradient is always on. */
export type FastSiamOptions = Omit<SimSiamOptions, 'stopGradient'>;

export class FastSiam extends SimSiam {
  constructor(backbone: Layer, o: FastSiamOptions) {
    super(backbone, o);
  }

  override step(views: Tensor[]): MethodStep {
    if (views.length < 3) throw new Error(`FastSiam: expected at least three views (the paper's 4), got ${views.length}`);
    const z = forwardCrops(this.encoder, views);     // [N, D] per view
    const p = forwardCrops(this.predictor, z);
    return { loss: fastSiamLoss(p, z), embeddings: [z[0].detach(), z[1].detach()] };
  }
}
