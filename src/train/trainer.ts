/**
 * The pretraining loop, the same for every method: a {@link DataLoader} of views, the method's
 * loss, backward, gradient accumulation and clipping, an optimizer with linear warm-up and a
 * cosine schedule set every step, the precision policy (bfloat16 autocast where the hardware has it:
 * tensor/precision.ts), and the parts a long run needs, each in its own file: RunCheckpointing,
 * RunLog (metrics.jsonl, TensorBoard), Progress, BadStepGuard, CollapseMonitor, and the callbacks
 * after each step (CostMonitor, KnnMonitor, and the user's own: `callbacks`, trainerCallback.ts):
 * - the run folder owned (see io/runFolder.ts): locked while training, an existing run refused
 *   unless `resume` or `overwrite` says what to do with it;
 * - checkpoints (atomic) every `checkpointEvery` steps and at the end; `resume: true` continues
 *   from the last one with the same data order, augmentations, random state and schedule, after
 *   checking it is the same run (method, batch, schedule, data: see runIdentity.ts);
 * - metrics.jsonl (one line per step) and TensorBoard event files (loss, lr, images/s, collapse
 *   diagnostics, kNN accuracy);
 * - progress with images/s and ETA, a cost estimate after the first steps, a warning line when the
 *   representation collapses, and steps with a NaN/Inf loss skipped (after `maxBadSteps` in a row,
 *   the weights go back to the last checkpoint); a run that ends on skipped steps is an error, and
 *   non-finite weights are never checkpointed;
 * - a budget of training time (`minutes`) instead of epochs: the loop stops when it is spent, and
 *   the schedules (learning rate, weight decay, the method's own: momentum, temperatures) run over
 *   the fraction of the budget spent instead of the steps done, the warm-up taking warmupEpochs /
 *   epochs of it (budgeted training: Li, Yumer & Ramanan, ICLR 2020). The time the callbacks take
 *   (kNN evaluations) is not counted; checkpoints keep the time trained, so a resumed run spends
 *   what is left. Such a run is seeded as any other but its length depends on the machine's speed;
 * - progressive resizing (`resolution`, resolutionSchedule.ts): the views grow from a smaller side to
 *   their own over the same clock as the schedules;
 * - data parallelism when a process group exists (see tensor/distributed.ts; `selfsup pretrain
 *   --nproc`): `batchSize` is the whole batch, split evenly over the ranks (each reads its share of
 *   every batch, DistributedSampler-style), the weights start as rank 0's, gradients are averaged in
 *   buckets after backward, the logged loss is the mean over ranks, and only rank 0 writes files
 *   (checkpoints, metrics, logs). Since a batch is the same images whatever the number of
 *   processes, a run resumes on any world size.
 *
 * ```ts
 * const summary = await pretrain(new SimCLR(backbone, { featureDim: 512 }), images, views, {
 *   out: 'runs/simclr', epochs: 100, batchSize: 256, optimizer: { name: 'sgd', lr: 0.06, weightDecay: 5e-4 } });
 * ```
 */
import { join } from 'node:path';
import { DataLoader, type ImageSet } from '../data/index.js';
import { claimRunFolder, writeTextFile } from '../io/index.js';
import type { SSLMethod } from '../methods/index.js';
import { AdamW, LARS, type Optimizer, SGD, clipGradNorm, warmupCosine } from '../optim/index.js';
import {
  type MemoryFormat, type Precision, autocast, averageGradients, defaultDevice, describePrecision, manualSeed, processGroup, resolvePrecision, tidy,
} from '../tensor/index.js';
import type { ViewSet } from '../transforms/index.js';
import { BadStepGuard } from './badStepGuard.js';
import { CollapseMonitor } from './collapseMonitor.js';
import { type CostEstimate, forwardFlops, trainFlopsPerImage } from './costEstimate.js';
import { CostMonitor } from './costMonitor.js';
import { agreedSeconds, meanLoss, startTogether } from './dataParallelRun.js';
import { KnnMonitor, type KnnMonitorOptions } from './knnMonitor.js';
import { Progress, formatDuration } from './progress.js';
import { type ResolutionSchedule, checkResolutionSchedule, resizeViews, scheduledSide } from './resolutionSchedule.js';
import { RunCheckpointing } from './runCheckpointing.js';
import type { RunIdentity } from './runIdentity.js';
import { RunLog, type StepRecord } from './runLog.js';
import type { StepContext, TrainerCallback } from './trainerCallback.js';

export interface OptimizerConfig {
  name: 'sgd' | 'lars' | 'adamw';
  /** the learning rate after warm-up (already scaled for the batch size, if wanted) */
  lr: number;
  weightDecay: number;
  momentum?: number;
  /** AdamW's (beta1, beta2) (default 0.9, 0.999; MAE and BEiT use 0.9, 0.95 / 0.999) */
  betas?: [number, number];
  warmupEpochs?: number;
  /** the learning rate the cosine ends at (default 0) */
  finalLr?: number;
  /** the weight decay rises (or falls) on a cosine from weightDecay to this (DINO: 0.04 -> 0.4); default constant */
  finalWeightDecay?: number;
}

export interface TrainerOptions {
  out: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  /** loader batches per optimizer step (the effective batch is batchSize x accumulate) */
  accumulate?: number;
  /** clip the global gradient norm to this */
  clipGrad?: number;
  /** 'auto' (default: bf16 autocast on CUDA and on CPUs with native bfloat16, else fp32), 'fp32' or 'bf16' */
  precision?: Precision;
  /** @deprecated the same as precision 'bf16' */
  mixedPrecision?: boolean;
  seed?: number;
  workers?: number;
  /** steps between checkpoints (default: one epoch) */
  checkpointEvery?: number;
  /** steps between collapse diagnostics (default 10) */
  diagnosticsEvery?: number;
  knn?: KnnMonitorOptions;
  /** the user's parts of the loop, called after each trained step (trainerCallback.ts) */
  callbacks?: TrainerCallback[];
  resume?: boolean;
  /** replace a run already in `out` (without it, and without `resume`, an existing run is refused) */
  overwrite?: boolean;
  /**
   * what must be the same to resume this run (beside the batch, schedule, method and data, which
   * the trainer adds); saved in checkpoints, compared on `resume`
   */
  identity?: RunIdentity;
  /** identity keys a resumed run may change on purpose (`--allow-changed batchSize`) */
  allowChanged?: string[];
  /** stop after this many steps in total (a budget shorter than the epochs) */
  maxSteps?: number;
  /** a budget of training time in minutes: the run's length and the clock of its schedules (see above) */
  minutes?: number;
  /** progressive resizing: the views grow from a smaller side to their own over the run (resolutionSchedule.ts) */
  resolution?: ResolutionSchedule;
  maxBadSteps?: number;
  /** the run's configuration, saved in config.json and in checkpoints */
  config?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface TrainSummary {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  imagesPerSecond: number;
  knn?: { top1: number; top5: number };
  cost?: CostEstimate;
  /** seconds trained (the resumed parts' included; callbacks' time not) */
  trainedSeconds: number;
  resumedFrom?: number;
  /** the last checkpoint written, and the step it holds */
  checkpoint?: { path: string; step: number };
  /** streamed photos this process could not read (each replaced by the next readable one), by name, with the reason */
  skippedImages?: Record<string, string>;
}

function makeOptimizer(method: SSLMethod, c: OptimizerConfig): Optimizer<{ lr: number; weightDecay: number }> {
  const groups = method.parameterGroups(c.weightDecay);
  if (c.name === 'sgd') return new SGD(groups, { lr: c.lr, momentum: c.momentum ?? 0.9, weightDecay: c.weightDecay });
  if (c.name === 'lars') return new LARS(groups, { lr: c.lr, momentum: c.momentum ?? 0.9, weightDecay: c.weightDecay });
  return new AdamW(groups, { lr: c.lr, weightDecay: c.weightDecay, ...(c.betas ? { betas: c.betas } : {}) });
}

export async function pretrain(method: SSLMethod, data: ImageSet, views: ViewSet, o: TrainerOptions): Promise<TrainSummary> {
  const { rank, worldSize: world } = processGroup() ?? { rank: 0, worldSize: 1 };
  const lead = rank === 0;  // the process that writes files and logs
  const log = !lead ? () => undefined : o.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (o.batchSize % world !== 0) {
    throw new Error(`batchSize ${o.batchSize} (the whole batch, split over the processes) must be a multiple of the ${world} processes`);
  }
  const lock = lead ? claimRunFolder(o.out, { resume: o.resume, overwrite: o.overwrite }) : null;
  try {
    return await trainInFolder(method, data, views, o, rank, world, log);
  } finally {
    lock?.release();
  }
}

async function trainInFolder(method: SSLMethod, data: ImageSet, views: ViewSet, o: TrainerOptions, rank: number, world: number, log: (line: string) => void): Promise<TrainSummary> {
  const lead = rank === 0;
  const accumulate = o.accumulate ?? 1;
  manualSeed(o.seed ?? 0);
  const fullSide = views.views[0].size;
  if (o.resolution) {
    if (views.mask) throw new Error('resolution schedule: not with masked image modelling (the patch mask is cut for the views\' own size)');
    checkResolutionSchedule(o.resolution, fullSide);
  }
  // views laid out as the backbone keeps its activations (a channels_last ResNet), made so in the loader's workers
  const memoryFormat = (method.backbone as { memoryFormat?: MemoryFormat }).memoryFormat;
  const loader = new DataLoader(data, { batchSize: o.batchSize / world, rank, worldSize: world, views, seed: o.seed ?? 0, workers: o.workers, memoryFormat });
  const stepsPerEpoch = Math.floor(loader.batchesPerEpoch / accumulate);
  if (stepsPerEpoch < 1) throw new Error(`accumulate ${accumulate} is more than the ${loader.batchesPerEpoch} batches of an epoch`);
  if (o.minutes !== undefined && !(o.minutes > 0 && Number.isFinite(o.minutes))) throw new Error(`minutes ${o.minutes}: expected a positive number of minutes`);
  // the budget in seconds, or none: then the run is its epochs' steps
  const budget = o.minutes !== undefined ? o.minutes * 60 : undefined;
  const plannedSteps = budget === undefined ? o.epochs * stepsPerEpoch : Infinity;
  const totalSteps = Math.min(plannedSteps, o.maxSteps ?? Infinity);
  const optimizer = makeOptimizer(method, o.optimizer);
  // the schedules' clock: steps of the planned ones, or seconds of the budget (warm-up: the same share of it as of the epochs)
  const length = budget ?? plannedSteps;
  const warmupShare = Math.min(1, (o.optimizer.warmupEpochs ?? 0) / o.epochs);
  const schedule = warmupCosine({
    base: o.optimizer.lr, final: o.optimizer.finalLr ?? 0, totalSteps: length,
    warmupSteps: budget !== undefined ? warmupShare * budget : Math.min(plannedSteps, Math.round((o.optimizer.warmupEpochs ?? 0) * stepsPerEpoch)),
  });
  const weightDecaySchedule = warmupCosine({ base: o.optimizer.weightDecay, final: o.optimizer.finalWeightDecay ?? o.optimizer.weightDecay, totalSteps: length });
  const checkpointEvery = o.checkpointEvery ?? stepsPerEpoch;
  const identity: RunIdentity = {
    method: method.constructor.name, ...o.identity, batchSize: o.batchSize, accumulate, epochs: o.epochs, data: data.fingerprint(),
    ...(o.minutes !== undefined ? { minutes: o.minutes } : {}),
  };
  const checkpoints = new RunCheckpointing({ out: o.out, method, optimizer, loader, identity, config: o.config ?? {}, lead, log });
  const start = (o.resume ? checkpoints.resume(plannedSteps, accumulate, o.allowChanged) : undefined) ?? 0;
  const resumedFrom = checkpoints.last?.step;
  const runLog = new RunLog(o.out, lead);
  if (resumedFrom !== undefined) log(`resuming ${o.out} from step ${start} (epoch ${loader.position.epoch}, batch ${loader.position.batch})`);
  startTogether(method, start, rank, world, checkpoints.path);
  // a new run starts an empty log (claimRunFolder refused or removed an earlier run); a resumed one keeps its checkpoint's steps
  runLog.begin(resumedFrom);
  if (lead) writeTextFile(join(o.out, 'config.json'), JSON.stringify(o.config ?? {}, null, 2) + '\n');
  const imagesPerStep = o.batchSize * accumulate;
  const progress = new Progress('pretrain', totalSteps, imagesPerStep, { budgetSeconds: budget, ...(lead ? {} : { stream: { write: () => undefined } }) });
  const flops = forwardFlops(method.backbone, [1, 3, views.views[0].size, views.views[0].size]);
  const planned = budget !== undefined ? `${formatDuration(budget - checkpoints.resumedSeconds)} of training` : `${totalSteps - start} steps`;
  log(`${method.constructor.name}: ${planned} of ${imagesPerStep} images (${stepsPerEpoch} per epoch), ` +
    `${(method.parameterCount() / 1e6).toFixed(2)} M parameters, backbone ${(flops / 1e9).toFixed(3)} GFLOPs/image forward` +
    (world > 1 ? `, ${world} processes of ${o.batchSize / world} images` : ''));
  const trained = method.parameters().filter((p) => p.requiresGrad);
  const precision: Precision = o.mixedPrecision ? 'bf16' : o.precision ?? 'auto';
  const bf16 = resolvePrecision(precision, defaultDevice()) === 'bf16';
  log(`precision: ${describePrecision(precision, defaultDevice())}`);

  const guard = new BadStepGuard(o.maxBadSteps ?? 3, checkpoints, runLog, optimizer, log);
  const collapse = new CollapseMonitor(o.diagnosticsEvery ?? 10, log);
  const cost = new CostMonitor(flops, trainFlopsPerImage(method.backbone, views.views.map((v) => v.size), method.visibleFraction), imagesPerStep);
  const knn = o.knn ? new KnnMonitor(o.knn, bf16 ? 'bf16' : 'fp32') : undefined;
  const callbacks: TrainerCallback[] = [cost, ...(knn ? [knn] : []), ...(o.callbacks ?? [])];
  const summary: TrainSummary = { steps: 0, firstLoss: NaN, lastLoss: NaN, imagesPerSecond: NaN, resumedFrom, trainedSeconds: checkpoints.resumedSeconds };
  let lastTrained = start;   // the last step that updated the weights
  let reached = start;       // the steps the loop went through, trained or skipped
  const timer = { start: performance.now(), images: 0 };
  // seconds trained: the resumed run's, and this one's but the callbacks' (on a budget, agreed by the ranks at each step)
  const clock = { start: performance.now(), paused: 0 };
  const trainedSeconds = () => {
    const own = checkpoints.resumedSeconds + (performance.now() - clock.start) / 1000 - clock.paused;
    return budget !== undefined ? agreedSeconds(own, world) : own;
  };
  let seconds = checkpoints.resumedSeconds;
  try {
    for (let step = start; step < totalSteps && (budget === undefined || seconds < budget); step++) {
      reached = step + 1;
      const at = budget !== undefined ? seconds : step;   // where the schedules are
      const lr = schedule(at);
      const side = o.resolution ? scheduledSide(o.resolution, fullSide, at / length) : fullSide;
      optimizer.setLearningRate(lr);
      if (o.optimizer.finalWeightDecay !== undefined) optimizer.setWeightDecay(weightDecaySchedule(at));
      let lossSum = 0;
      let finite = true;
      const metrics: Record<string, number> = {};
      let epoch = 0;
      for (let micro = 0; micro < accumulate; micro++) {
        const batch = await loader.next();
        epoch = batch.epoch;
        const value = tidy(() => {
          const run = () => method.step(resizeViews(batch.views, side, fullSide), batch.mask, batch.labels);
          const out = bf16 ? autocast(run) : run();
          const loss = out.loss.float();
          const v = loss.item();
          if (!Number.isFinite(v)) return v;
          loss.div(accumulate).backward();
          if (micro === 0) Object.assign(metrics, out.metrics ?? {}, collapse.measure(step, out.embeddings));
          return v;
        });
        for (const v of batch.views) v.dispose();
        batch.labels?.dispose();
        batch.mask?.dispose();
        if (!Number.isFinite(value)) finite = false;
        lossSum += value / accumulate;
      }
      // The mean over ranks: what is logged, and one verdict on a non-finite loss for every rank.
      lossSum = meanLoss(lossSum, finite, world);
      finite = Number.isFinite(lossSum);
      if (!finite) {
        guard.skip(step, lossSum);
        if (budget !== undefined) seconds = trainedSeconds();
        continue;
      }
      guard.trained();
      lastTrained = step + 1;
      averageGradients(trained);
      method.beforeUpdate(budget !== undefined ? seconds / budget : step / totalSteps);
      if (o.clipGrad) clipGradNorm(method.parameters(), o.clipGrad);
      optimizer.step();
      optimizer.zeroGrad();
      seconds = trainedSeconds();
      method.afterStep(budget !== undefined ? Math.min(1, seconds / budget) : (step + 1) / totalSteps);
      const done = step + 1;
      const lastStep = done === totalSteps || (budget !== undefined && seconds >= budget);
      summary.trainedSeconds = seconds;
      timer.images += imagesPerStep;
      if (Number.isNaN(summary.firstLoss)) summary.firstLoss = lossSum;
      summary.lastLoss = lossSum;
      summary.steps = done - start;
      const rate = progress.rate(done);
      if (o.optimizer.finalWeightDecay !== undefined) metrics.weight_decay = weightDecaySchedule(at);
      if (o.resolution) metrics.view_size = side;
      const record: StepRecord = { step: done, epoch, loss: lossSum, lr, img_per_s: rate, time: Date.now() / 1000, ...metrics };
      runLog.step(record);
      progress.update(done, { loss: lossSum, lr }, seconds);
      if (done % checkpointEvery === 0 || lastStep) checkpoints.save(done, seconds);
      const context: StepContext = {
        method, totalSteps, stepsPerEpoch, startStep: start, epochEnded: done % stepsPerEpoch === 0, lastStep, lead, out: o.out,
        trainedSeconds: seconds, budgetSeconds: budget, log: (values, names) => runLog.event(done, values, names), print: log,
      };
      const paused = performance.now();
      for (const callback of callbacks) await callback.onStep?.(record, context);
      clock.paused += (performance.now() - paused) / 1000;
    }
  } finally {
    runLog.close();
    await loader.close();
    optimizer.dispose();   // its state (momentum, moments) is in the checkpoint; the method keeps its weights
  }
  progress.done();
  summary.imagesPerSecond = timer.images / ((performance.now() - timer.start) / 1000);
  summary.checkpoint = checkpoints.last;
  if (cost.estimate) summary.cost = cost.estimate;
  if (knn?.last) summary.knn = knn.last;
  if (loader.skipped.size > 0) summary.skippedImages = Object.fromEntries(loader.skipped);
  if (lastTrained < reached) {
    const skipped = reached - lastTrained;
    const saved = checkpoints.last;
    throw new Error(`the run ended with its last ${skipped} step${skipped > 1 ? 's' : ''} skipped (a NaN/Inf loss${summary.steps === 0 ? ' in every step: nothing was trained' : ''}); ` +
      (saved ? `the last good checkpoint is step ${saved.step} in ${saved.path}` : 'no checkpoint was written') + '. Lower --lr, check --init weights and the data');
  }
  return summary;
}
