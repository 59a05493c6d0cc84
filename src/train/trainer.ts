/**
 * The pretraining loop, the same for every method: a {@link DataLoader} of views, the method's
 * loss, backward, gradient accumulation and clipping, an optimizer with linear warm-up and a
 * cosine schedule set every step, the precision policy (bfloat16 autocast where the hardware has it:
 * tensor/precision.ts), and everything a long run needs:
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
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader, type ImageSet } from '../data/index.js';
import { collapseMetrics, setKnn } from '../eval/index.js';
import { CHECKPOINT_FILE, METRICS_FILE, type RunLock, claimRunFolder, loadCheckpoint, readCheckpointMetadata, removeStaleTemporaries, saveCheckpoint } from '../io/index.js';
import type { SSLMethod } from '../methods/index.js';
import { AdamW, LARS, type Optimizer, SGD, clipGradNorm, warmupCosine } from '../optim/index.js';
import {
  type Precision, allGather, allReduce, allocatorStats, autocast, averageGradients, broadcast, cat, defaultDevice, describePrecision, manualSeed, processGroup,
  type MemoryFormat, resolvePrecision, tensor, tidy,
} from '../tensor/index.js';
import type { ViewConfig, ViewSet } from '../transforms/index.js';
import { type CostEstimate, forwardFlops, formatCost, trainFlopsPerImage } from './costEstimate.js';
import { Progress } from './progress.js';
import { type RunIdentity, checkResumeIdentity } from './runIdentity.js';
import { TensorBoardWriter } from './tensorboard.js';

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

export interface KnnMonitor {
  train: ImageSet;
  test: ImageSet;
  view: ViewConfig;
  /** every this many epochs, and at the end */
  every: number;
  k?: number;
  temperature?: number;
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
  knn?: KnnMonitor;
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

/** Whether every floating-point parameter and buffer is finite (one number back from the engine). */
function weightsFinite(method: SSLMethod): boolean {
  return tidy(() => {
    const floats = [...method.parameters(), ...method.buffers()].filter((t) => t.dtype.startsWith('float') || t.dtype === 'bfloat16');
    return cat(floats.map((t) => t.isfinite().all().view(1))).all().item() === 1;
  });
}

async function trainInFolder(method: SSLMethod, data: ImageSet, views: ViewSet, o: TrainerOptions, rank: number, world: number, log: (line: string) => void): Promise<TrainSummary> {
  const lead = rank === 0;
  const accumulate = o.accumulate ?? 1;
  const checkpointPath = join(o.out, CHECKPOINT_FILE);
  const metricsPath = join(o.out, METRICS_FILE);
  manualSeed(o.seed ?? 0);
  // views laid out as the backbone keeps its activations (a channels_last ResNet), made so in the loader's workers
  const memoryFormat = (method.backbone as { memoryFormat?: MemoryFormat }).memoryFormat;
  const loader = new DataLoader(data, { batchSize: o.batchSize / world, rank, worldSize: world, views, seed: o.seed ?? 0, workers: o.workers, memoryFormat });
  const stepsPerEpoch = Math.floor(loader.batchesPerEpoch / accumulate);
  if (stepsPerEpoch < 1) throw new Error(`accumulate ${accumulate} is more than the ${loader.batchesPerEpoch} batches of an epoch`);
  const totalSteps = Math.min(o.epochs * stepsPerEpoch, o.maxSteps ?? Infinity);
  const optimizer = makeOptimizer(method, o.optimizer);
  const schedule = warmupCosine({
    base: o.optimizer.lr, final: o.optimizer.finalLr ?? 0, totalSteps: o.epochs * stepsPerEpoch,
    warmupSteps: Math.min(o.epochs * stepsPerEpoch, Math.round((o.optimizer.warmupEpochs ?? 0) * stepsPerEpoch)),
  });
  const weightDecaySchedule = warmupCosine({ base: o.optimizer.weightDecay, final: o.optimizer.finalWeightDecay ?? o.optimizer.weightDecay, totalSteps: o.epochs * stepsPerEpoch });
  const checkpointEvery = o.checkpointEvery ?? stepsPerEpoch;
  const identity: RunIdentity = {
    method: method.constructor.name, ...o.identity, batchSize: o.batchSize, accumulate, epochs: o.epochs, data: data.fingerprint(),
  };
  let saved: { path: string; step: number } | undefined;
  const save = (step: number) => {
    if (!lead) return;
    if (!weightsFinite(method)) {
      throw new Error(`step ${step}: the weights are no longer finite although the loss was (too high a learning rate?); ` +
        `not checkpointed${saved ? `: the last good checkpoint is step ${saved.step} in ${saved.path}` : ''}`);
    }
    saveCheckpoint(checkpointPath, { model: method, optimizer, step, extra: { loader: loader.position, config: o.config ?? {}, identity } });
    saved = { path: checkpointPath, step };
  };

  // A run killed while writing its checkpoint leaves the temporary copy (the checkpoint itself is whole).
  if (lead && removeStaleTemporaries(checkpointPath) > 0) log(`removed the partial checkpoint a killed run left in ${o.out}`);
  let start = 0;
  let resumedFrom: number | undefined;
  if (o.resume && existsSync(checkpointPath)) {
    const before = readCheckpointMetadata(checkpointPath);
    const savedIdentity = before.extra.identity as RunIdentity | undefined;
    if (savedIdentity) checkResumeIdentity(checkpointPath, savedIdentity, identity, o.allowChanged);
    else log(`${checkpointPath} predates run identities: resuming without checking it is the same run`);
    const { step, extra } = loadCheckpoint(checkpointPath, { model: method, optimizer });
    const position = extra.loader as { epoch: number; batch: number } | undefined;
    const consumed = position && Number.isInteger(position.epoch) && Number.isInteger(position.batch) ? position.epoch * loader.batchesPerEpoch + position.batch : NaN;
    if (step > o.epochs * stepsPerEpoch || consumed !== step * accumulate) {
      throw new Error(`${checkpointPath}: inconsistent checkpoint: step ${step} (this run has ${o.epochs * stepsPerEpoch}), loader position ` +
        `${JSON.stringify(position)} (step ${step} means ${step * accumulate} batches of ${loader.batchesPerEpoch} per epoch)`);
    }
    loader.seek(position!);
    start = resumedFrom = step;
    saved = { path: checkpointPath, step };
    // Keep the metrics of the steps the checkpoint covers; later lines were from the killed run.
    if (lead && existsSync(metricsPath)) {
      const kept = readFileSync(metricsPath, 'utf8').split('\n').filter((line) => {
        try { return (JSON.parse(line) as { step: number }).step <= step; } catch { return false; }
      });
      writeFileSync(metricsPath, kept.map((l) => l + '\n').join(''));
    }
    log(`resuming ${o.out} from step ${step} (epoch ${loader.position.epoch}, batch ${loader.position.batch})`);
  } else if (lead) {
    // a new run: no checkpoint of an earlier one survives (claimRunFolder refused or removed it)
    writeFileSync(metricsPath, '');
  }
  if (world > 1) {
    const starts = tidy(() => allGather(tensor([start], { dtype: 'float64' })).data<Float64Array>());
    const other = starts.findIndex((s) => s !== start);
    if (other >= 0) {
      throw new Error(`rank ${rank} starts at step ${start} but rank ${other} at step ${starts[other]}: every process must read the same ` +
        `checkpoint (${checkpointPath}); on several machines the run folder must be shared`);
    }
    broadcast([...method.parameters(), ...method.buffers()], 0);   // every rank starts from rank 0's weights
  }
  if (lead) writeFileSync(join(o.out, 'config.json'), JSON.stringify(o.config ?? {}, null, 2) + '\n');
  const tensorboard = lead ? new TensorBoardWriter(join(o.out, 'tensorboard')) : null;
  const imagesPerStep = o.batchSize * accumulate;
  const progress = new Progress('pretrain', totalSteps, imagesPerStep, lead ? {} : { stream: { write: () => undefined } });
  const flops = forwardFlops(method.backbone, [1, 3, views.views[0].size, views.views[0].size]);
  const trainFlops = trainFlopsPerImage(method.backbone, views.views.map((v) => v.size), method.visibleFraction);
  log(`${method.constructor.name}: ${totalSteps - start} steps of ${imagesPerStep} images (${stepsPerEpoch} per epoch), ` +
    `${(method.parameterCount() / 1e6).toFixed(2)} M parameters, backbone ${(flops / 1e9).toFixed(3)} GFLOPs/image forward` +
    (world > 1 ? `, ${world} processes of ${o.batchSize / world} images` : ''));
  const trained = method.parameters().filter((p) => p.requiresGrad);
  const precision: Precision = o.mixedPrecision ? 'bf16' : o.precision ?? 'auto';
  const bf16 = resolvePrecision(precision, defaultDevice()) === 'bf16';
  log(`precision: ${describePrecision(precision, defaultDevice())}`);

  const summary: TrainSummary = { steps: 0, firstLoss: NaN, lastLoss: NaN, imagesPerSecond: NaN, resumedFrom };
  let lastTrained = start;   // the last step that updated the weights
  const runKnn = async (step: number) => {
    if (!o.knn || !lead) return;
    // features at the run's precision, as a PyTorch validation loop under the same autocast
    const knn = await setKnn(method.backbone, o.knn.train, o.knn.test, o.knn.view, { k: o.knn.k, temperature: o.knn.temperature, precision: bf16 ? 'bf16' : 'fp32' });
    summary.knn = knn;
    appendFileSync(metricsPath, JSON.stringify({ step, knn_top1: knn.top1, knn_top5: knn.top5 }) + '\n');
    tensorboard!.scalars({ 'knn/top1': knn.top1, 'knn/top5': knn.top5 }, step);
    log(`step ${step}: kNN top-1 ${(100 * knn.top1).toFixed(2)}%, top-5 ${(100 * knn.top5).toFixed(2)}%`);
  };

  let badSteps = 0;
  const timer = { start: performance.now(), images: 0 };
  try {
    for (let step = start; step < totalSteps; step++) {
      const lr = schedule(step);
      optimizer.setLearningRate(lr);
      if (o.optimizer.finalWeightDecay !== undefined) optimizer.setWeightDecay(weightDecaySchedule(step));
      let lossSum = 0;
      let finite = true;
      let diagnostics: Record<string, number> = {};
      let epoch = 0;
      for (let micro = 0; micro < accumulate; micro++) {
        const batch = await loader.next();
        epoch = batch.epoch;
        const value = tidy(() => {
          const run = () => method.step(batch.views, batch.mask, batch.labels);
          const out = bf16 ? autocast(run) : run();
          const loss = out.loss.float();
          const v = loss.item();
          if (!Number.isFinite(v)) return v;
          loss.div(accumulate).backward();
          if (micro === 0 && out.metrics) Object.assign(diagnostics, out.metrics);
          if (micro === 0 && out.embeddings && step % (o.diagnosticsEvery ?? 10) === 0) {
            const m = collapseMetrics(out.embeddings[0], out.embeddings[1]);
            Object.assign(diagnostics, { 'collapse/std': m.std, 'collapse/std_reference': m.stdReference, 'collapse/effective_rank': m.effectiveRank, 'collapse/uniformity': m.uniformity });
            if (m.alignment !== undefined) diagnostics['collapse/alignment'] = m.alignment;
            if (m.warning) log(`step ${step}: ${m.warning}`);
          }
          return v;
        });
        for (const v of batch.views) v.dispose();
        batch.labels?.dispose();
        batch.mask?.dispose();
        if (!Number.isFinite(value)) finite = false;
        lossSum += value / accumulate;
      }
      if (world > 1) {
        // The mean over ranks: what is logged, and one verdict on a non-finite loss for every rank.
        lossSum = tidy(() => allReduce(tensor([finite ? lossSum : NaN], { dtype: 'float64' }), 'mean').item());
        finite = Number.isFinite(lossSum);
      }
      if (!finite) {
        optimizer.zeroGrad();
        badSteps++;
        log(`step ${step}: loss is ${lossSum}, step skipped (${badSteps} in a row)`);
        if (lead) appendFileSync(metricsPath, JSON.stringify({ step: step + 1, loss: null, skipped: true }) + '\n');
        if (badSteps >= (o.maxBadSteps ?? 3) && existsSync(checkpointPath)) {
          loadCheckpoint(checkpointPath, { model: method, optimizer });
          log(`step ${step}: ${badSteps} bad steps in a row; weights and optimizer restored from ${checkpointPath}`);
          badSteps = 0;
        }
        continue;
      }
      badSteps = 0;
      lastTrained = step + 1;
      averageGradients(trained);
      method.beforeUpdate(step / totalSteps);
      if (o.clipGrad) clipGradNorm(method.parameters(), o.clipGrad);
      optimizer.step();
      optimizer.zeroGrad();
      method.afterStep((step + 1) / totalSteps);
      const done = step + 1;
      timer.images += imagesPerStep;
      if (Number.isNaN(summary.firstLoss)) summary.firstLoss = lossSum;
      summary.lastLoss = lossSum;
      summary.steps = done - start;
      const rate = progress.rate(done);
      if (o.optimizer.finalWeightDecay !== undefined) diagnostics.weight_decay = weightDecaySchedule(step);
      const record = { step: done, epoch, loss: lossSum, lr, img_per_s: rate, time: Date.now() / 1000, ...diagnostics };
      if (lead) appendFileSync(metricsPath, JSON.stringify(record) + '\n');
      tensorboard?.scalars({ loss: lossSum, lr, img_per_s: rate, ...diagnostics }, done);
      progress.update(done, { loss: lossSum, lr });
      if (done === start + 3 || (done === totalSteps && !summary.cost)) {
        const measured = Number.isFinite(rate) ? rate : timer.images / ((performance.now() - timer.start) / 1000);
        summary.cost = {
          parameters: method.parameterCount(), forwardGflopsPerImage: flops / 1e9,
          trainGflopsPerStep: (trainFlops * imagesPerStep) / 1e9,
          imagesPerSecond: measured, peakEngineMB: allocatorStats().peakLiveBytes / 2 ** 20,
          etaSeconds: ((totalSteps - done) * imagesPerStep) / measured,
        };
        if (lead) writeFileSync(join(o.out, 'cost.json'), JSON.stringify(summary.cost, null, 2) + '\n');
        log(`cost: ${formatCost(summary.cost)}`);
      }
      if (done % checkpointEvery === 0 || done === totalSteps) save(done);
      const epochEnded = done % stepsPerEpoch === 0;
      if (o.knn && ((epochEnded && (done / stepsPerEpoch) % o.knn.every === 0) || done === totalSteps)) await runKnn(done);
    }
  } finally {
    tensorboard?.close();
    await loader.close();
    optimizer.dispose();   // its state (momentum, moments) is in the checkpoint; the method keeps its weights
  }
  progress.done();
  summary.imagesPerSecond = timer.images / ((performance.now() - timer.start) / 1000);
  summary.checkpoint = saved;
  if (loader.skipped.size > 0) summary.skippedImages = Object.fromEntries(loader.skipped);
  if (lastTrained < totalSteps) {
    const skipped = totalSteps - lastTrained;
    throw new Error(`the run ended with its last ${skipped} step${skipped > 1 ? 's' : ''} skipped (a NaN/Inf loss${summary.steps === 0 ? ' in every step: nothing was trained' : ''}); ` +
      (saved ? `the last good checkpoint is step ${saved.step} in ${saved.path}` : 'no checkpoint was written') + '. Lower --lr, check --init weights and the data');
  }
  return summary;
}
