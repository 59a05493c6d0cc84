/**
 * The cost of a run, measured once it runs at speed (after its third step, or at its end when it is
 * shorter): parameters, forward GFLOPs per image, training GFLOPs per step, images/s, the engine's
 * peak memory and the time left. Written to `cost.json` and printed (see costEstimate.ts).
 */
import { join } from 'node:path';
import { writeTextFile } from '../io/index.js';
import { allocatorStats } from '../tensor/index.js';
import { type CostEstimate, formatCost } from './costEstimate.js';
import type { StepRecord } from './runLog.js';
import type { StepContext, TrainerCallback } from './trainerCallback.js';

export class CostMonitor implements TrainerCallback {
  estimate?: CostEstimate;
  private readonly started = performance.now();
  private images = 0;

  /** `forwardFlops` per image of the backbone, `trainFlops` per image of a training step (views, masking) */
  constructor(private readonly forwardFlops: number, private readonly trainFlops: number, private readonly imagesPerStep: number) {}

  onStep(record: StepRecord, context: StepContext): void {
    this.images += this.imagesPerStep;
    if (!(record.step === context.startStep + 3 || (context.lastStep && !this.estimate))) return;
    const measured = Number.isFinite(record.img_per_s) ? record.img_per_s : this.images / ((performance.now() - this.started) / 1000);
    this.estimate = {
      parameters: context.method.parameterCount(), forwardGflopsPerImage: this.forwardFlops / 1e9,
      trainGflopsPerStep: (this.trainFlops * this.imagesPerStep) / 1e9,
      imagesPerSecond: measured, peakEngineMB: allocatorStats().peakLiveBytes / 2 ** 20,
      etaSeconds: context.budgetSeconds !== undefined ? Math.max(0, context.budgetSeconds - context.trainedSeconds)
        : ((context.totalSteps - record.step) * this.imagesPerStep) / measured,
    };
    if (context.lead) writeTextFile(join(context.out, 'cost.json'), JSON.stringify(this.estimate, null, 2) + '\n');
    context.print(`cost: ${formatCost(this.estimate)}`);
  }
}
