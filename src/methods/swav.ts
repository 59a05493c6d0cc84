/**
 * SwAV (Caron et al., 2020, "Unsupervised Learning of Visual Features by Contrasting Cluster
 * Assignments"): each crop's embedding (backbone + projection 2048 -> 128, unit length) is scored
 * against K learnable prototypes (3000; unit rows, renormalised before every step); the global crops'
 * scores become soft codes by Sinkhorn-Knopp (3 iterations, epsilon 0.05: every prototype used
 * equally by the batch), and each global crop's codes are predicted from every other crop's scores
 * at temperature 0.1 ("swapped prediction", swavLoss). Multi-crop: 2 global crops and N local ones
 * (6 at 96/224 of the side); the prototypes are frozen for the first epoch (here 1% of training);
 * for batches smaller than the prototypes, a queue of the global crops' earlier embeddings (from
 * `queueStart` of training) joins the Sinkhorn-Knopp batch, so the equal-use constraint spans
 * enough images (Sec. 4.1, "small batches").
 *
 * ```ts
 * const swav = new SwAV(resnet18({ stem: 'cifar' }), { featureDim: 512, queueSize: 3840 });
 * const { loss } = swav.step([global1, global2, ...locals], null);
 * ```
 */
import { Linear, MLP } from '../nn/index.js';
import type { Layer } from '../nn/index.js';
import { sinkhornKnopp, swavLoss } from '../losses/index.js';
import { type Generator, type Tensor, cat, noGrad, normalize, tensor, zeros } from '../tensor/index.js';
import { enqueueRows } from './featureQueue.js';
import { relativeRowEntropy } from './relativeEntropy.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardCrops } from './twoViewEncoder.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';
import type { ViewRecipe, ViewTemplate } from '../transforms/index.js';

/** The paper's heads, prototypes and temperature; no queue unless asked (its ImageNet runs used 3840 below batch 256). */
const DEFAULTS = { hiddenDim: 2048, projectionDim: 128, prototypes: 3000, temperature: 0.1, queueSize: 0 };
/** Sinkhorn-Knopp's epsilon and rounds, when the queue starts filling and how long the prototypes stay frozen (fractions of training). */
const SCHEDULE = { epsilon: 0.05, sinkhornIterations: 3, queueStart: 0.05, freezePrototypes: 0.01 };

/** SwAV's colour distortion (strength 1: jitter 0.8/0.8/0.8/0.2 with p 0.8, grey 0.2), blur p 0.5, flip. */
const SWAV_COMMON: ViewTemplate = {
  horizontalFlip: 0.5, colorJitter: { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, p: 0.8 }, grayscale: 0.2, blur: { p: 0.5, sigma: [0.1, 2] },
};
/** The reference's multi-crop: 2 global crops 0.14-1 and 6 local crops 0.05-0.14 at 96/224 of the side. */
export const SWAV_VIEWS: ViewRecipe = {
  views: [{ ...SWAV_COMMON, crop: { scale: [0.14, 1] } }, { ...SWAV_COMMON, crop: { scale: [0.14, 1] } }],
  localViews: { count: 6, sideFraction: 96 / 224, view: { ...SWAV_COMMON, crop: { scale: [0.05, 0.14] } } },
};

export const SWAV_RECIPE: MethodRecipes = anyBackbone({
  source: 'Caron et al., 2020 (SwAV): multi-crop views, heads, 3000 prototypes, temperature 0.1, Sinkhorn-Knopp 3 x 0.05, prototypes frozen for the first epoch; '
    + 'solo-learn\'s CIFAR LARS 0.6 per 256, weight decay 1e-6, queue 3840 from 5% of training',
  views: SWAV_VIEWS,
  optimizer: 'lars', baseLr: 0.6, weightDecay: 1e-6, warmupEpochs: 10,
  options: { ...DEFAULTS, queueSize: 3840 },
});

export interface SwAVOptions {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  prototypes?: number;
  temperature?: number;
  epsilon?: number;
  sinkhornIterations?: number;
  /** stored embeddings per global crop for Sinkhorn-Knopp (0: none) */
  queueSize?: number;
  /** fraction of training after which the queue fills (default 0.05) */
  queueStart?: number;
  /** fraction of training with the prototypes frozen (default 0.01) */
  freezePrototypes?: number;
  /** the global crops, the first views (default 2) */
  globalCrops?: number;
  generator?: Generator;
}

export class SwAV extends SSLMethod {
  readonly encoder: Encoder;
  readonly prototypes: Linear;   // weight [K, D]
  readonly queue: Tensor;        // [G, Q, D]: each global crop's earlier embeddings (unit rows)
  readonly pointer: Tensor;      // int64 [G]: where each crop's next embeddings go
  readonly queued: Tensor;       // int64 [1]: embeddings stored per crop, up to Q
  private progress = 0;
  override readonly backboneKey = 'encoder.backbone';

  constructor(readonly backbone: Layer, private readonly o: SwAVOptions) {
    super();
    const dim = o.projectionDim ?? DEFAULTS.projectionDim;
    this.encoder = this.registerModule('encoder', new Encoder(backbone, new MLP([o.featureDim, o.hiddenDim ?? DEFAULTS.hiddenDim, dim], { norm: 'batch', generator: o.generator })));
    this.prototypes = this.registerModule('prototypes', new Linear(dim, o.prototypes ?? DEFAULTS.prototypes, { bias: false, generator: o.generator }));
    const globals = o.globalCrops ?? 2;
    this.queue = this.registerBuffer('queue', zeros([globals, o.queueSize ?? DEFAULTS.queueSize, dim]));
    this.pointer = this.registerBuffer('pointer', zeros([globals], { dtype: 'int64' }));
    this.queued = this.registerBuffer('queued', tensor([0], { dtype: 'int64' }));
  }

  /** Whether the queue is full, so its embeddings join Sinkhorn-Knopp. */
  private queueInUse(): boolean {
    const size = this.queue.size(1);
    return size > 0 && this.queued.item() >= size;
  }

  step(views: Tensor[]): MethodStep {
    const globals = this.o.globalCrops ?? 2;
    if (views.length < Math.max(2, globals)) throw new Error(`SwAV: expected at least ${Math.max(2, globals)} crops (the global ones first), got ${views.length}`);
    noGrad(() => this.prototypes.weight.copy_(normalize(this.prototypes.weight, { dim: 1 })));
    const z = forwardCrops(this.encoder, views).map((e) => normalize(e, { dim: 1 }));   // [B, D] per crop
    const scores = z.map((e) => this.prototypes.forward(e));                              // [B, K] per crop
    const useQueue = this.queueInUse();
    const codes = z.slice(0, globals).map((_, i) => noGrad(() => {
      const b = scores[i].size(0);
      const batch = useQueue ? cat([this.prototypes.forward(this.queue.select(0, i)).to(scores[i].dtype), scores[i]], 0) : scores[i];
      return sinkhornKnopp(batch, { epsilon: this.o.epsilon ?? SCHEDULE.epsilon, iterations: this.o.sinkhornIterations ?? SCHEDULE.sinkhornIterations })
        .narrow(0, batch.size(0) - b, b);                                                 // this batch's codes [B, K]
    }));
    const loss = swavLoss(scores, codes, this.o.temperature ?? DEFAULTS.temperature);
    if (this.queue.size(1) > 0 && this.progress >= (this.o.queueStart ?? SCHEDULE.queueStart)) this.enqueue(z.slice(0, globals));
    return {
      loss, embeddings: [z[0].detach(), z[1].detach()], metrics: { 'swav/queue_in_use': useQueue ? 1 : 0, 'swav/code_entropy': relativeRowEntropy(codes[0]) },
    };
  }

  /**
   * This process's embeddings of each global crop join that crop's queue: each process keeps its own, as the
   * reference does, and Sinkhorn-Knopp sums over every process's queue and batch.
   */
  private enqueue(globals: Tensor[]): void {
    noGrad(() => {
      globals.forEach((e, i) => enqueueRows(this.queue.select(0, i), this.pointer.narrow(0, i, 1), e.detach()));
      this.queued.fill_(Math.min(this.queued.item() + globals[0].size(0), this.queue.size(1)));
    });
  }

  override beforeUpdate(progress: number): void {
    if (progress < (this.o.freezePrototypes ?? SCHEDULE.freezePrototypes)) this.prototypes.zeroGrad();
  }

  override afterStep(progress: number): void {
    this.progress = progress;
  }
}
