/**
 * NNCLR (Dwibedi et al., 2021, "With a Little Help from My Friends: Nearest-Neighbor Contrastive
 * Learning of Visual Representations"): SimCLR-style contrast where each image's positive is not its
 * other view but the nearest neighbour of its embedding in a support set (a queue of earlier
 * embeddings, 98304 on ImageNet), so positives come from other images of the same kind. Projection
 * 3 layers (2048 hidden, 256 out, BN), predictor 2 layers (4096 hidden) on the other branch,
 * temperature 0.1, the loss symmetrised (nnclrLoss); BYOL's views (Sec. 4.1).
 *
 * ```ts
 * const nnclr = new NNCLR(resnet18({ stem: 'cifar' }), { featureDim: 512, queueSize: 65536 });
 * ```
 */
import { MLP } from '../nn/index.js';
import type { Layer } from '../nn/index.js';
import { nearestNeighbours, nnclrLoss } from '../losses/index.js';
import { predictionHead } from '../models/index.js';
import { type Generator, type Tensor, allGather, noGrad, normalize, randn, tensor, tidy } from '../tensor/index.js';
import { BYOL_VIEWS } from './byol.js';
import { enqueueRows } from './featureQueue.js';
import { type MethodStep, SSLMethod } from './method.js';
import { Encoder, forwardViews } from './twoViewEncoder.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';

/** The paper's heads and temperature; the support set of solo-learn's CIFAR recipe (the paper's 98304 is ImageNet-sized). */
const DEFAULTS = { hiddenDim: 2048, projectionDim: 256, queueSize: 65536, temperature: 0.1 };
/** The predictor's hidden width: twice the projector's, as the paper's 4096 and 2048. */
const PREDICTOR_WIDTH = 2;

export const NNCLR_RECIPE: MethodRecipes = anyBackbone({
  source: 'Dwibedi et al., 2021 (NNCLR): BYOL\'s views, heads, temperature 0.1; solo-learn\'s CIFAR support set (65536) and LARS 0.4 per 256, weight decay 1e-5',
  views: BYOL_VIEWS,
  optimizer: 'lars', baseLr: 0.4, weightDecay: 1e-5, warmupEpochs: 10,
  options: DEFAULTS,
});

export interface NNCLROptions {
  featureDim: number;
  hiddenDim?: number;
  projectionDim?: number;
  /** default twice hiddenDim */
  predictorHiddenDim?: number;
  /** the support set's size Q */
  queueSize?: number;
  temperature?: number;
  generator?: Generator;
}

export class NNCLR extends SSLMethod {
  readonly encoder: Encoder;
  readonly predictor: Layer;
  readonly support: Tensor;   // [Q, D], unit rows
  readonly pointer: Tensor;   // int64 [1]: where the next embeddings go
  readonly temperature: number;
  override readonly backboneKey = 'encoder.backbone';

  constructor(readonly backbone: Layer, o: NNCLROptions) {
    super();
    const dim = o.projectionDim ?? DEFAULTS.projectionDim;
    const hidden = o.hiddenDim ?? DEFAULTS.hiddenDim;
    this.encoder = this.registerModule('encoder', new Encoder(backbone, new MLP([o.featureDim, hidden, hidden, dim], { norm: 'batch', lastNorm: true, generator: o.generator })));
    this.predictor = this.registerModule('predictor', predictionHead(dim, o.predictorHiddenDim ?? PREDICTOR_WIDTH * hidden, dim, o.generator));
    // random unit rows until real embeddings replace them (solo-learn's start)
    this.support = this.registerBuffer('support', tidy(() => normalize(randn([o.queueSize ?? DEFAULTS.queueSize, dim], { generator: o.generator }), { dim: 1 })));
    this.pointer = this.registerBuffer('pointer', tensor([0], { dtype: 'int64' }));
    this.temperature = o.temperature ?? DEFAULTS.temperature;
  }

  step(views: Tensor[]): MethodStep {
    if (views.length !== 2) throw new Error(`NNCLR: expected two views, got ${views.length}`);
    const [z1, z2] = forwardViews(this.encoder, views);        // [N, D]
    const [p1, p2] = forwardViews(this.predictor, [z1, z2]);   // [N, D]
    const [nn1, nn2] = [nearestNeighbours(z1, this.support), nearestNeighbours(z2, this.support)];
    const loss = nnclrLoss(nn1, p2, this.temperature).add(nnclrLoss(nn2, p1, this.temperature)).div(2);
    // the first view's embeddings of every process join the support set
    enqueueRows(this.support, this.pointer, noGrad(() => allGather(normalize(z1.detach().float(), { dim: 1 }))));
    return { loss, embeddings: [z1.detach(), z2.detach()] };
  }
}
