/**
 * The trainer's share of data parallelism (tensor/distributed.ts; `selfsup pretrain --nproc`): every
 * process must start from the same step and from rank 0's weights, and they agree on each step's loss
 * (its mean over the ranks is what is logged, and one non-finite loss skips the step everywhere).
 * Gradients are averaged after backward by `averageGradients`. With one process both do nothing.
 */
import type { SSLMethod } from '../methods/index.js';
import { allGather, allReduce, broadcast, tensor, tidy } from '../tensor/index.js';

/** Checks every rank starts at `start` (they read the same checkpoint), then gives them rank 0's weights. */
export function startTogether(method: SSLMethod, start: number, rank: number, world: number, checkpointPath: string): void {
  if (world <= 1) return;
  const starts = tidy(() => allGather(tensor([start], { dtype: 'float64' })).data<Float64Array>());
  const other = starts.findIndex((s) => s !== start);
  if (other >= 0) {
    throw new Error(`rank ${rank} starts at step ${start} but rank ${other} at step ${starts[other]}: every process must read the same ` +
      `checkpoint (${checkpointPath}); on several machines the run folder must be shared`);
  }
  broadcast([...method.parameters(), ...method.buffers()], 0);
}

/** Rank 0's count of the seconds a run on a time budget has trained, on every rank (so that all stop at the same step). */
export function agreedSeconds(seconds: number, world: number): number {
  if (world <= 1) return seconds;
  return tidy(() => {
    const t = tensor([seconds], { dtype: 'float64' });
    broadcast([t], 0);
    return t.item();
  });
}

/** The step's loss over all ranks: the mean, NaN when any rank's was not finite (one process: its own). */
export function meanLoss(loss: number, finite: boolean, world: number): number {
  if (world <= 1) return loss;
  return tidy(() => allReduce(tensor([finite ? loss : NaN], { dtype: 'float64' }), 'mean').item());
}
