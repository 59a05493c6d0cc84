/**
 * Batch normalisation (Ioffe & Szegedy, 2015) over the channel dimension of [N, C] or
 * [N, C, H, W]: batch statistics in training (running averages updated with `momentum`),
 * running statistics in eval mode. Keys as PyTorch: weight, bias, running_mean,
 * running_var, num_batches_tracked.
 *
 * ```ts
 * const bn = new BatchNorm2d(64);
 * bn.forward(x);                     // [N, 64, H, W], normalised per channel
 * ```
 */
import { type Tensor, batchNorm, ones, zeros, noGrad } from '../tensor/index.js';
import { Layer } from './module.js';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  /** learnable scale and shift (gamma 1, beta 0) */
  affine?: boolean;
  trackRunningStats?: boolean;
}

export class BatchNorm extends Layer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(readonly numFeatures: number, options: BatchNormOptions = {}, private readonly dims: number[] = [2, 3, 4]) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', zeros([numFeatures])) : null;
    const track = options.trackRunningStats ?? true;
    this.runningMean = track ? this.registerBuffer('running_mean', zeros([numFeatures])) : null;
    this.runningVar = track ? this.registerBuffer('running_var', ones([numFeatures])) : null;
    this.numBatchesTracked = track ? this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' })) : null;
  }

  forward(x: Tensor): Tensor {
    if (!this.dims.includes(x.ndim)) {
      throw new Error(`${this.constructor.name}: expected a ${this.dims.join('-D or ')}-D input, got [${x.shape.join(', ')}]`);
    }
    const useBatchStats = this.training || this.runningMean === null;
    if (this.training && this.numBatchesTracked !== null) noGrad(() => this.numBatchesTracked!.add_(1));
    return batchNorm(x, {
      weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training: useBatchStats, momentum: this.momentum, eps: this.eps,
    });
  }
}

/** BatchNorm over [N, C] or [N, C, L] (torch.nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, [2, 3]);
  }
}

/** BatchNorm over [N, C, H, W] (torch.nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, [4]);
  }
}
