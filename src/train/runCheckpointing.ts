/**
 * A run's checkpoint: written atomically every `checkpointEvery` steps and at the end (the method,
 * the optimizer's state, the step, the loader's position, the seconds trained, the run's configuration
 * and identity),
 * never with non-finite weights; read back on `resume` after checking it is the same run
 * (runIdentity.ts) and consistent (its step and the loader position agree); restored after too many
 * bad steps. Only the lead process writes; every process reads.
 *
 * ```ts
 * const checkpoints = new RunCheckpointing({ out, method, optimizer, loader, identity, config, lead: true, log });
 * const step = checkpoints.resume(plannedSteps, accumulate) ?? 0;   // undefined: nothing to resume
 * checkpoints.save(step + 1, trainedSeconds);
 * ```
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataLoader } from '../data/index.js';
import { CHECKPOINT_FILE, loadCheckpoint, readCheckpointMetadata, saveCheckpoint } from '../io/index.js';
import type { SSLMethod } from '../methods/index.js';
import type { Optimizer } from '../optim/index.js';
import { cat, tidy } from '../tensor/index.js';
import { type RunIdentity, checkResumeIdentity } from './runIdentity.js';

export interface RunCheckpointingOptions {
  out: string;
  method: SSLMethod;
  optimizer: Optimizer<{ lr: number; weightDecay: number }>;
  loader: DataLoader;
  identity: RunIdentity;
  /** the run's configuration, saved in each checkpoint */
  config: Record<string, unknown>;
  lead: boolean;
  log: (line: string) => void;
}

/** Whether every floating-point parameter and buffer is finite (one number back from the engine). */
function weightsFinite(method: SSLMethod): boolean {
  return tidy(() => {
    const floats = [...method.parameters(), ...method.buffers()].filter((t) => t.dtype.startsWith('float') || t.dtype === 'bfloat16');
    return cat(floats.map((t) => t.isfinite().all().view(1))).all().item() === 1;
  });
}

export class RunCheckpointing {
  readonly path: string;
  /** the last checkpoint written or resumed from, and the step it holds */
  last?: { path: string; step: number };
  /** the seconds the run had trained at the checkpoint resumed from (0 for a new run) */
  resumedSeconds = 0;

  constructor(private readonly o: RunCheckpointingOptions) {
    this.path = join(o.out, CHECKPOINT_FILE);
  }

  /**
   * Continues from the checkpoint when there is one: its identity checked against this run's (keys in
   * `allowChanged` may differ), the method, optimizer and loader position restored. Returns its step,
   * or undefined when there is no checkpoint. `plannedSteps`: the run's steps; `accumulate`: batches per step.
   */
  resume(plannedSteps: number, accumulate: number, allowChanged?: string[]): number | undefined {
    if (!existsSync(this.path)) return undefined;
    const before = readCheckpointMetadata(this.path);
    const savedIdentity = before.extra.identity as RunIdentity | undefined;
    if (savedIdentity) checkResumeIdentity(this.path, savedIdentity, this.o.identity, allowChanged);
    else this.o.log(`${this.path} predates run identities: resuming without checking it is the same run`);
    const { step, extra } = loadCheckpoint(this.path, { model: this.o.method, optimizer: this.o.optimizer });
    const loader = this.o.loader;
    const position = extra.loader as { epoch: number; batch: number } | undefined;
    const consumed = position && Number.isInteger(position.epoch) && Number.isInteger(position.batch) ? position.epoch * loader.batchesPerEpoch + position.batch : NaN;
    if (step > plannedSteps || consumed !== step * accumulate) {
      throw new Error(`${this.path}: inconsistent checkpoint: step ${step} (this run has ${plannedSteps}), loader position ` +
        `${JSON.stringify(position)} (step ${step} means ${step * accumulate} batches of ${loader.batchesPerEpoch} per epoch)`);
    }
    loader.seek(position!);
    this.last = { path: this.path, step };
    this.resumedSeconds = typeof extra.trainedSeconds === 'number' ? extra.trainedSeconds : 0;
    return step;
  }

  /**
   * Writes the checkpoint of `step`, after `trainedSeconds` of training (the lead process only);
   * refused when the weights are no longer finite.
   */
  save(step: number, trainedSeconds: number): void {
    if (!this.o.lead) return;
    if (!weightsFinite(this.o.method)) {
      throw new Error(`step ${step}: the weights are no longer finite although the loss was (too high a learning rate?); ` +
        `not checkpointed${this.last ? `: the last good checkpoint is step ${this.last.step} in ${this.last.path}` : ''}`);
    }
    saveCheckpoint(this.path, { model: this.o.method, optimizer: this.o.optimizer, step, extra: { loader: this.o.loader.position, config: this.o.config, identity: this.o.identity, trainedSeconds } });
    this.last = { path: this.path, step };
  }

  /** Puts the weights and optimizer back to the checkpoint's (after bad steps); false when there is none. */
  restore(): boolean {
    if (!existsSync(this.path)) return false;
    loadCheckpoint(this.path, { model: this.o.method, optimizer: this.o.optimizer });
    return true;
  }
}
