/**
 * MoCo v2 (He et al., 2020; Chen et al., 2020, "Improved Baselines with Momentum Contrastive
 * Learning"): a query encoder trained by InfoNCE against the key of the same image from a momentum
 * encoder (EMA of the query encoder, m = 0.99 on small data, 0.999 on ImageNet) and K negatives from
 * a queue of earlier keys; projection Linear-ReLU-Linear 2048 -> 128, temperature 0.2, the "aug+"
 * recipe. Both directions (q1 with k2 and q2 with k1) as the MoCo CIFAR-10 demo's symmetric loss.
 * Batch norm (shuffle BN, Sec. 3.3): with several processes, the key encoder's inputs of every
 * process are gathered, shuffled by one permutation drawn on rank 0, each process encodes its share
 * with its own batch statistics and the keys go back to their images (the reference's
 * _batch_shuffle_ddp / _batch_unshuffle_ddp); in one process, `splits` computes batch statistics
 * over chunks of a shuffled batch instead (the demo's SplitBatchNorm). Either way the key encoder
 * cannot read the query's batch statistics (so no SyncBatchNorm for MoCo v2).
 *
 * ```ts
 * const moco = new MoCoV2(resnet18({ stem: 'cifar' }), { featureDim: 512, queueSize: 4096 });
 * ```
 */
import { MLP } from '../nn/index.js';
import type { Layer } from '../nn/index.js';
import { infoNceLoss } from '../losses/index.js';
import { emaUpdate, momentumEncoder } from '../optim/index.js';
import { type Generator, type Tensor, allGather, broadcast, cat, noGrad, normalize, randn, randperm, tensor, tidy, worldRank } from '../tensor/index.js';
import { enqueueRows } from './featureQueue.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardSplit } from './twoViewEncoder.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';
import type { ViewTemplate } from '../transforms/index.js';

/** The MoCo CIFAR-10 demo's head, queue, temperature and EMA momentum (0.999 on ImageNet). */
const DEFAULTS = { hiddenDim: 2048, projectionDim: 128, queueSize: 4096, temperature: 0.2, emaMomentum: 0.99 };

/** MoCo v2's "aug+" (Chen et al., 2020b; SimSiam's too): crop 0.2-1, flip, jitter 0.4/0.4/0.4/0.1 with p 0.8, grey 0.2, blur p 0.5. */
export const AUG_PLUS_VIEW: ViewTemplate = {
  crop: { scale: [0.2, 1] }, horizontalFlip: 0.5, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
  grayscale: 0.2, blur: { p: 0.5, sigma: [0.1, 2] },
};

export const MOCO_V2_RECIPE: MethodRecipes = anyBackbone({
  source: 'Chen et al., 2020b (MoCo v2): aug+ views, MLP head, temperature 0.2; the MoCo CIFAR-10 demo: SGD 0.06 per 256, weight decay 5e-4, queue 4096, momentum 0.99',
  views: { views: [AUG_PLUS_VIEW, AUG_PLUS_VIEW] },
  optimizer: 'sgd', baseLr: 0.06, weightDecay: 5e-4, warmupEpochs: 10, syncBatchNorm: false,
  options: DEFAULTS,
});

export interface MoCoV2Options {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  queueSize?: number;
  temperature?: number;
  momentum?: number;
  /** batch-norm splits in one process (default 1: whole batch; the MoCo CIFAR demo uses 8) */
  splits?: number;
  generator?: Generator;
}

export class MoCoV2 extends SSLMethod {
  readonly query: Encoder;
  readonly key: Encoder;
  readonly queue: Tensor;     // [K, D], unit rows
  readonly pointer: Tensor;   // int64 [1]: where the next keys go
  readonly temperature: number;
  readonly momentum: number;
  readonly splits: number;
  override readonly backboneKey = 'query.backbone';

  constructor(readonly backbone: Layer, private readonly o: MoCoV2Options) {
    super();
    const dim = o.projectionDim ?? DEFAULTS.projectionDim;
    this.query = this.registerModule('query', new Encoder(backbone, new MLP([o.featureDim, o.hiddenDim ?? DEFAULTS.hiddenDim, dim], { norm: null, generator: o.generator })));
    this.key = this.registerModule('key', momentumEncoder(this.query));
    this.queue = this.registerBuffer('queue', tidy(() => normalize(randn([o.queueSize ?? DEFAULTS.queueSize, dim], { generator: o.generator }), { dim: 1 })));
    this.pointer = this.registerBuffer('pointer', tensor([0], { dtype: 'int64' }));
    this.temperature = o.temperature ?? DEFAULTS.temperature;
    this.momentum = o.momentum ?? DEFAULTS.emaMomentum;
    this.splits = o.splits ?? 1;
  }

  /** Keys of a batch [N, ...] from the momentum encoder: shuffled (across processes when there are several), split for batch norm, unshuffled: [N, D]. */
  private keys(x: Tensor): Tensor {
    return noGrad(() => {
      const [rank, n] = [worldRank(), x.size(0)];
      const all = allGather(x);                                                     // [W*N, ...], every process's images
      const order = randperm(all.size(0), { generator: this.o.generator });         // [W*N]
      broadcast([order], 0);                                                        // one permutation for every process
      const mine = order.narrow(0, rank * n, n);                                    // the images this process encodes
      const encoded = forwardSplit(this.key, all.indexSelect(0, mine), this.splits); // [N, D], this share's statistics
      const back = order.argsort().narrow(0, rank * n, n);                          // where this process's images went
      return normalize(allGather(encoded).indexSelect(0, back), { dim: 1 });        // [W*N, D] in shuffled order -> [N, D]
    });
  }

  step(views: Tensor[]): MethodStep {
    if (views.length !== 2) throw new Error(`MoCo v2: expected two views, got ${views.length}`);
    const q1 = forwardSplit(this.query, views[0], this.splits);                 // [N, D]
    const q2 = forwardSplit(this.query, views[1], this.splits);
    const [k1, k2] = [this.keys(views[0]), this.keys(views[1])];
    const loss = infoNceLoss(q1, k2, this.queue, this.temperature).add(infoNceLoss(q2, k1, this.queue, this.temperature)).div(2);
    // every process's first-view keys, then their second-view keys: the order one process with the whole batch has
    enqueueRows(this.queue, this.pointer, noGrad(() => cat([allGather(k1), allGather(k2)], 0)));
    return { loss, embeddings: [q1.detach(), q2.detach()] };
  }

  override afterStep(): void {
    emaUpdate(this.key, this.query, this.momentum);
  }
}
