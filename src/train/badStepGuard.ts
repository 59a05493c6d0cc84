/**
 * Steps whose loss is NaN or Inf: the step is skipped (no update, its gradients dropped, a
 * `skipped` line in metrics.jsonl), and after `maxBadSteps` in a row the weights and optimizer go
 * back to the last checkpoint. A run that ends on skipped steps is an error (see the trainer).
 */
import type { Optimizer } from '../optim/index.js';
import type { RunCheckpointing } from './runCheckpointing.js';
import type { RunLog } from './runLog.js';

export class BadStepGuard {
  private inARow = 0;

  constructor(private readonly maxBadSteps: number, private readonly checkpoints: RunCheckpointing, private readonly runLog: RunLog,
    private readonly optimizer: Optimizer<{ lr: number; weightDecay: number }>, private readonly print: (line: string) => void) {}

  /** Step `step` (0-based) had a non-finite loss. */
  skip(step: number, loss: number): void {
    this.optimizer.zeroGrad();
    this.inARow++;
    this.print(`step ${step}: loss is ${loss}, step skipped (${this.inARow} in a row)`);
    this.runLog.event(step + 1, { loss: null, skipped: true });
    if (this.inARow >= this.maxBadSteps && this.checkpoints.restore()) {
      this.print(`step ${step}: ${this.inARow} bad steps in a row; weights and optimizer restored from ${this.checkpoints.path}`);
      this.inARow = 0;
    }
  }

  /** A step trained: the count starts again. */
  trained(): void {
    this.inARow = 0;
  }
}
