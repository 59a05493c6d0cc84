/**
 * The online kNN monitor (weighted kNN, k = 200, T = 0.1, as lightly, VISSL and the MoCo CIFAR demo):
 * the backbone's features of a labelled bank and query set every `every` epochs and at the end of the
 * run, at the run's precision (as a PyTorch validation loop under the same autocast), streamed when
 * the sets are photo folders. Runs on the lead process; logged as knn_top1 / knn_top5.
 */
import type { ImageSet } from '../data/index.js';
import { setKnn } from '../eval/index.js';
import type { ViewConfig } from '../transforms/index.js';
import type { StepRecord } from './runLog.js';
import type { StepContext, TrainerCallback } from './trainerCallback.js';

export interface KnnMonitorOptions {
  train: ImageSet;
  test: ImageSet;
  view: ViewConfig;
  /** every this many epochs, and at the end */
  every: number;
  k?: number;
  temperature?: number;
}

export class KnnMonitor implements TrainerCallback {
  last?: { top1: number; top5: number };

  constructor(private readonly o: KnnMonitorOptions, private readonly precision: 'bf16' | 'fp32') {}

  async onStep(record: StepRecord, context: StepContext): Promise<void> {
    const due = (context.epochEnded && (record.step / context.stepsPerEpoch) % this.o.every === 0) || context.lastStep;
    if (!due || !context.lead) return;
    const knn = await setKnn(context.method.backbone, this.o.train, this.o.test, this.o.view, { k: this.o.k, temperature: this.o.temperature, precision: this.precision });
    this.last = knn;
    context.log({ knn_top1: knn.top1, knn_top5: knn.top5 }, { knn_top1: 'knn/top1', knn_top5: 'knn/top5' });
    context.print(`step ${record.step}: kNN top-1 ${(100 * knn.top1).toFixed(2)}%, top-5 ${(100 * knn.top5).toFixed(2)}%`);
  }
}
