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
import { type Generator, type Tensor, noGrad, tidy } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';

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
    const dim = o.projectionDim ?? 256;
    const hidden = o.hiddenDim ?? 4096;
    this.online = this.registerModule('online', new Encoder(backbone, byolProjection(o.featureDim, hidden, dim, o.generator)));
    this.predictor = this.registerModule('predictor', predictionHead(dim, hidden, dim, o.generator));
    this.target = this.registerModule('target', momentumEncoder(this.online));
  }

  step(views: Tensor[]): MethodStep {
    return tidy(() => {
      const [z1, z2] = forwardViews(this.online, views);
      const [p1, p2] = forwardViews(this.predictor, [z1, z2]);
      const [t1, t2] = noGrad(() => forwardViews(this.target, views));
      return { loss: byolLoss(p1, t2).add(byolLoss(p2, t1)), embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
    });
  }

  override afterStep(progress: number): void {
    emaUpdate(this.target, this.online, cosineMomentum(this.o.momentum ?? 0.996, progress));
  }
}
