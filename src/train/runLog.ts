/**
 * What a run logs per step: one JSON line per step in `metrics.jsonl` (and per event: a kNN
 * evaluation, a skipped step, a callback's metric) and the same scalars in TensorBoard event files
 * (`tensorboard/`). Only the lead process (rank 0) writes; on the others every call does nothing.
 * A resumed run keeps the lines of the steps its checkpoint covers and drops the later ones (the
 * killed run's), so the log reads as one run; that rewrite is atomic (a run killed during it keeps
 * its whole log; claimRunFolder removes the half-written copy).
 *
 * ```ts
 * const runLog = new RunLog('runs/a', true);
 * runLog.begin();                                       // a new run: an empty metrics.jsonl
 * runLog.step({ step: 1, epoch: 0, loss: 5.2, lr: 0.1, img_per_s: 80, time: Date.now() / 1000 });
 * runLog.event(1, { knn_top1: 0.31 });
 * ```
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, METRICS_FILE } from '../io/index.js';
import { TensorBoardWriter } from './tensorboard.js';

/** One line of metrics.jsonl for a trained step: the loop's numbers and every part's metrics. */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  img_per_s: number;
  /** seconds since the epoch */
  time: number;
  [metric: string]: number;
}

export class RunLog {
  readonly metricsPath: string;
  private tensorboard: TensorBoardWriter | null = null;

  constructor(readonly out: string, readonly lead: boolean) {
    this.metricsPath = join(out, METRICS_FILE);
  }

  /**
   * A new run (no `resumedStep`): an empty metrics.jsonl; a resumed one: the lines up to
   * `resumedStep` kept, written beside the log and renamed over it (never truncated in place).
   */
  begin(resumedStep?: number): void {
    if (!this.lead) return;
    if (resumedStep === undefined) {
      writeFileSync(this.metricsPath, '');
    } else if (existsSync(this.metricsPath)) {
      const kept = readFileSync(this.metricsPath, 'utf8').split('\n').filter((line) => {
        try { return (JSON.parse(line) as { step: number }).step <= resumedStep; } catch { return false; }
      });
      atomicWriteFile(this.metricsPath, [Buffer.from(kept.map((l) => l + '\n').join(''), 'utf8')]);
    }
    this.tensorboard = new TensorBoardWriter(join(this.out, 'tensorboard'));
  }

  /** A trained step: its line, and its numbers but the step, epoch and time as TensorBoard scalars. */
  step(record: StepRecord): void {
    if (!this.lead) return;
    appendFileSync(this.metricsPath, JSON.stringify(record) + '\n');
    const { step, epoch: _epoch, time: _time, ...scalars } = record;
    this.tensorboard?.scalars(scalars, step);
  }

  /** Something that happened at `step` (kNN accuracy, a metric of a callback): a line, and its numbers in TensorBoard under `scalarNames` (default the keys). */
  event(step: number, values: Record<string, number | boolean | null>, scalarNames: Record<string, string> = {}): void {
    if (!this.lead) return;
    appendFileSync(this.metricsPath, JSON.stringify({ step, ...values }) + '\n');
    const scalars = Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [scalarNames[k] ?? k, v]));
    if (Object.keys(scalars).length > 0) this.tensorboard?.scalars(scalars, step);
  }

  close(): void {
    this.tensorboard?.close();
    this.tensorboard = null;
  }
}
