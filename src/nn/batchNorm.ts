/**
 * Batch normalisation (Ioffe & Szegedy, 2015) over the channel dimension of [N, C] or
 * [N, C, H, W]: batch statistics in training (running averages updated with `momentum`),
 * running statistics in eval mode. Keys as PyTorch: weight, bias, running_mean,
 * running_var, num_batches_tracked.
 *
 * SyncBatchNorm (torch.nn.SyncBatchNorm; as SimCLR, BYOL and MoCo v3 train across devices):
 * with `synchronized` set (see {@link convertSyncBatchNorm}) and a process group of several
 * ranks, training statistics are those of every rank's batch together, through differentiable
 * all-reduces (the mean, then the centred second moment), so gradients match one process
 * holding the whole batch.
 *
 * ```ts
 * const bn = new BatchNorm2d(64);
 * bn.forward(x);                     // [N, 64, H, W], normalised per channel
 * convertSyncBatchNorm(model);       // every BatchNorm of model: statistics across processes
 * ```
 */
import { type Tensor, allReduceSumWithGrad, batchNorm, ones, zeros, noGrad, worldSize } from '../tensor/index.js';
import type { Module } from './module.js';
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
  /** training statistics over every rank's batch (SyncBatchNorm) when a process group has several ranks */
  synchronized = false;

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
    if (useBatchStats && this.synchronized && worldSize() > 1) return this.synchronizedForward(x);
    return batchNorm(x, {
      weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training: useBatchStats, momentum: this.momentum, eps: this.eps,
    });
  }

  /** Batch statistics over all ranks (every rank's batch of one size): two all-reduces, then the affine map, in float32. */
  private synchronizedForward(input: Tensor): Tensor {
    // statistics in float32 whatever autocast made of the input (as torch's SyncBatchNorm)
    const x = input.dtype === 'bfloat16' || input.dtype === 'float16' ? input.float() : input;
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];     // all but the channels
    const shape: number[] = [1, this.numFeatures, ...Array<number>(x.ndim - 2).fill(1)];           // [1, C, 1, ...]
    const count = (x.numel / this.numFeatures) * worldSize();                     // values per channel, all ranks
    const mean = allReduceSumWithGrad(x.sum(dims)).div(count);                     // [C]
    const centred = x.sub(mean.reshape(...shape));
    const variance = allReduceSumWithGrad(centred.square().sum(dims)).div(count);  // [C], biased
    let y = centred.mul(variance.add(this.eps).rsqrt().reshape(...shape));
    if (this.weight) y = y.mul(this.weight.reshape(...shape)).add(this.bias!.reshape(...shape));
    if (this.runningMean && this.training) {
      noGrad(() => {
        this.runningMean!.mul_(1 - this.momentum).add_(mean.detach().mul(this.momentum));
        this.runningVar!.mul_(1 - this.momentum).add_(variance.detach().mul((this.momentum * count) / Math.max(1, count - 1)));
      });
    }
    return y;
  }
}

/**
 * Turns every BatchNorm of `module` into a SyncBatchNorm (torch's convert_sync_batchnorm), or
 * back with `on = false`; returns how many it changed. Only training with several ranks differs.
 */
export function convertSyncBatchNorm(module: Module, on = true): number {
  let count = 0;
  for (const [, m] of module.namedModules()) {
    if (m instanceof BatchNorm && m.synchronized !== on) {
      m.synchronized = on;
      count++;
    }
  }
  return count;
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
