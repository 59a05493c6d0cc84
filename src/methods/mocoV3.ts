/**
 * MoCo v3 (Chen, Xie & He, 2021, "An Empirical Study of Training Self-Supervised Vision
 * Transformers", Alg. 1): backbone + 3-layer projection (BN, the last without affine) + 2-layer
 * predictor; the momentum encoder (backbone + projection) gives keys; the loss is the contrastive
 * loss over the batch (no queue), symmetric: ctr(q1, k2) + ctr(q2, k1), each scaled by 2T. The
 * momentum follows a cosine from 0.99 to 1. `freezePatchProjection` keeps a ViT's random patch
 * projection fixed, the paper's remedy for training instability (Sec. 4.2).
 *
 * ```ts
 * const moco = new MoCoV3(vitSmall({ imageSize: 32, patchSize: 4 }), { featureDim: 384, freezePatchProjection: true });
 * ```
 */
import type { Layer } from '../nn/index.js';
import { mocoV3Loss } from '../losses/index.js';
import { mocoV3Projection, predictionHead, VisionTransformer } from '../models/index.js';
import { cosineMomentum, emaUpdate, momentumEncoder } from '../optim/index.js';
import { type Generator, type Tensor, noGrad } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { BYOL_VIEWS } from './byol.js';
import type { MethodRecipe, MethodRecipes } from './recipe.js';

/** Heads 4096 -> 256, momentum 0.99 -> 1; temperature 0.2 for ViTs (the paper), 1.0 for ResNets (the reference code). */
const DEFAULTS = { hiddenDim: 4096, projectionDim: 256, emaMomentum: 0.99 };
const TEMPERATURE = { resnet: 1.0, vit: 0.2 };

const MOCO_V3_COMMON: MethodRecipe = {
  source: 'Chen, Xie & He, 2021 (MoCo v3): BYOL\'s views, heads, temperature, momentum 0.99 -> 1; optimizer: SGD 0.06 per 256, weight decay 5e-4 '
    + '(the paper\'s LARS 0.3 / AdamW 1.5e-4 at batch 4096)',
  views: BYOL_VIEWS,
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10,
  options: { ...DEFAULTS, temperature: TEMPERATURE.resnet },
};
export const MOCO_V3_RECIPE: MethodRecipes = {
  resnet: MOCO_V3_COMMON,
  vit: { ...MOCO_V3_COMMON, options: { ...DEFAULTS, temperature: TEMPERATURE.vit } },
};

export interface MoCoV3Options {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  /** default 0.2 for ViTs (the paper), 1.0 for ResNets (the reference code's ResNet setting) */
  temperature?: number;
  /** start of the cosine momentum schedule (default 0.99) */
  momentum?: number;
  freezePatchProjection?: boolean;
  generator?: Generator;
}

export class MoCoV3 extends SSLMethod {
  readonly online: Encoder;
  readonly predictor: Layer;
  readonly target: Encoder;
  readonly temperature: number;
  override readonly backboneKey = 'online.backbone';

  constructor(readonly backbone: Layer, private readonly o: MoCoV3Options) {
    super();
    const dim = o.projectionDim ?? DEFAULTS.projectionDim;
    const hidden = o.hiddenDim ?? DEFAULTS.hiddenDim;
    if (o.freezePatchProjection) {
      if (!(backbone instanceof VisionTransformer)) throw new Error('MoCo v3: freezePatchProjection needs a ViT backbone');
      for (const p of backbone.patchEmbed.parameters()) p.requiresGrad_(false);
    }
    this.online = this.registerModule('online', new Encoder(backbone, mocoV3Projection(o.featureDim, hidden, dim, o.generator)));
    this.predictor = this.registerModule('predictor', predictionHead(dim, hidden, dim, o.generator));
    this.target = this.registerModule('target', momentumEncoder(this.online));
    this.temperature = o.temperature ?? TEMPERATURE[backbone instanceof VisionTransformer ? 'vit' : 'resnet'];
  }

  step(views: Tensor[]): MethodStep {
    const [z1, z2] = forwardViews(this.online, views);
    const [q1, q2] = forwardViews(this.predictor, [z1, z2]);
    const [k1, k2] = noGrad(() => forwardViews(this.target, views));
    const loss = mocoV3Loss(q1, k2, this.temperature).add(mocoV3Loss(q2, k1, this.temperature));
    return { loss, embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }

  override afterStep(progress: number): void {
    emaUpdate(this.target, this.online, cosineMomentum(this.o.momentum ?? DEFAULTS.emaMomentum, progress));
  }
}
