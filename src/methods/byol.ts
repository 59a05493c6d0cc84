/**
 * BYOL (Grill et al., 2020, "Bootstrap Your Own Latent"): an online network (backbone, projection
 * 4096 -> 256, predictor) regresses the target network's projection of the other view; the target
 * is an EMA of the online backbone + projection with momentum from 0.996 (0.99 on small data) to 1
 * on a cosine (Sec. 3.2); loss 2 - 2 cos(p, z'), symmetrised (Eq. 2); the asymmetric recipe (blur
 * 1.0 / 0.1, solarize 0 / 0.2).
 *
 * ```ts
 * const byol = new BYOL(resnet18({ stem: 'cifar' }), { featureDim: 512, momentum: 0.99 });
 * ```
 */
import type { Layer } from '../nn/index.js';
import { byolLoss } from '../losses/index.js';
import { byolProjection, predictionHead } from '../models/index.js';
import { cosineMomentum, emaUpdate, momentumEncoder } from '../optim/index.js';
import { type Generator, type Tensor, noGrad } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';
import type { ViewRecipe } from '../transforms/index.js';

/** Heads 4096 -> 256; the target's momentum starts at 0.996 (Sec. 3.2). */
const DEFAULTS = { hiddenDim: 4096, projectionDim: 256, emaMomentum: 0.996 };

const BYOL_COMMON = { crop: { scale: [0.08, 1] as [number, number] }, horizontalFlip: 0.5, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 }, grayscale: 0.2 };
/**
 * BYOL's asymmetric views (Table 6): crop 0.08-1, flip, jitter 0.4/0.4/0.2/0.1 with p 0.8, grey 0.2; blur 1.0 / 0.1,
 * solarize 0 / 0.2. MoCo v3, Barlow Twins and VICReg train on them too.
 */
export const BYOL_VIEWS: ViewRecipe = {
  views: [{ ...BYOL_COMMON, blur: { p: 1, sigma: [0.1, 2] } }, { ...BYOL_COMMON, blur: { p: 0.1, sigma: [0.1, 2] }, solarize: { p: 0.2 } }],
};

export const BYOL_RECIPE: MethodRecipes = anyBackbone({
  source: 'Grill et al., 2020 (BYOL): views (Table 6), heads, target momentum 0.996 -> 1 on a cosine; optimizer: SGD 0.06 per 256, weight decay 5e-4 '
    + '(the paper\'s LARS 0.2 per 256, 1.5e-6 at batch 4096)',
  views: BYOL_VIEWS,
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: DEFAULTS,
});

export interface BYOLOptions {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  momentum?: number;
  generator?: Generator;
}

export class BYOL extends SSLMethod {
  readonly online: Encoder;
  readonly predictor: Layer;
  readonly target: Encoder;
  override readonly backboneKey = 'online.backbone';

  constructor(readonly backbone: Layer, private readonly o: BYOLOptions) {
    super();
    const dim = o.projectionDim ?? DEFAULTS.projectionDim;
    const hidden = o.hiddenDim ?? DEFAULTS.hiddenDim;
    this.online = this.registerModule('online', new Encoder(backbone, byolProjection(o.featureDim, hidden, dim, o.generator)));
    this.predictor = this.registerModule('predictor', predictionHead(dim, hidden, dim, o.generator));
    this.target = this.registerModule('target', momentumEncoder(this.online));
  }

  step(views: Tensor[]): MethodStep {
    const [z1, z2] = forwardViews(this.online, views);
    const [p1, p2] = forwardViews(this.predictor, [z1, z2]);
    const [t1, t2] = noGrad(() => forwardViews(this.target, views));
    return { loss: byolLoss(p1, t2).add(byolLoss(p2, t1)), embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }

  override afterStep(progress: number): void {
    emaUpdate(this.target, this.online, cosineMomentum(this.o.momentum ?? DEFAULTS.emaMomentum, progress));
  }
}
