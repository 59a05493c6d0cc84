/**
 * What a pretraining run is: the schema of its configuration (every key of `selfsup pretrain`'s
 * config file and flags, checked before any work: unknown keys, wrong types and impossible values
 * refused with the key named), the settings that make its identity for `--resume`, and the method
 * options a configuration sets. A run's checkpoint records its configuration; loading a run's
 * method (runCheckpoint.ts) parses it again with this schema.
 *
 * ```ts
 * const parsed = PretrainSchema.safeParse({ method: 'simclr', data: 'photos/', out: 'runs/a' });
 * const identity = runIdentity(parsed.data!);   // compared with the checkpoint's on --resume
 * ```
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { METHOD_NAMES, type MethodOptions, VIT_ONLY_METHODS } from '../methods/index.js';
import { BACKBONES } from '../models/index.js';
import { PRECISIONS, maxThreads } from '../tensor/index.js';
import type { RunIdentity } from '../train/index.js';

const positiveInt = z.number().int().positive();
/** threads and loader workers: at most 4 per core (more only thrash; thousands hang or exhaust memory) */
const perCore = (min: number) => z.number().int().min(min).max(maxThreads(), `at most ${maxThreads()} (4 x the ${availableParallelism()} cores of this machine)`);

export const PretrainSchema = z.strictObject({
  method: z.enum(METHOD_NAMES),
  data: z.string().min(1),
  out: z.string().min(1),
  backbone: z.enum(BACKBONES).default('resnet18'),
  /** ResNet stem; default cifar for images of 64 px and less */
  stem: z.enum(['cifar', 'imagenet']).optional(),
  width: z.number().positive().default(1),
  patchSize: positiveInt.optional(),
  /** view side in pixels (default: the images' side); image folders are resized to it when loaded */
  size: positiveInt.optional(),
  domain: z.enum(['natural', 'grayscale', 'aerial']).default('natural'),
  /** per-channel statistics: measured on the data (default), or ImageNet's / CIFAR-10's */
  normalize: z.enum(['data', 'imagenet', 'cifar10']).default('data'),
  epochs: positiveInt.default(100),
  batchSize: z.number().int().min(2).default(256),
  /** default: AdamW for the masked-image methods (MAE), SGD for the others */
  optimizer: z.enum(['sgd', 'lars', 'adamw']).optional(),
  /** default: 0.06 x batch/256 (SGD), 0.3 x batch/256 (LARS), 1e-3 x batch/256 (AdamW; MAE 1.5e-4 x batch/256) */
  lr: z.number().positive().optional(),
  weightDecay: z.number().min(0).optional(),
  /** the weight decay at the end, on a cosine from weightDecay (default: constant; DINO/iBOT 0.04 -> 0.4) */
  finalWeightDecay: z.number().min(0).optional(),
  momentum: z.number().min(0).max(1).default(0.9),
  warmupEpochs: z.number().min(0).optional(),
  /** the method's defaults when unset: SimCLR 0.5, MoCo v2 0.2, MoCo v3 0.2 (ViT) / 1.0 (ResNet) */
  temperature: z.number().positive().optional(),
  /** head sizes; each method's paper defaults when unset (SimCLR 2048 -> 128, BYOL 4096 -> 256, ...) */
  projectionDim: positiveInt.optional(),
  hiddenDim: positiveInt.optional(),
  /** MoCo v2: negatives in the queue (default 4096) */
  queueSize: positiveInt.optional(),
  /** MoCo v2: EMA momentum of the key encoder; MoCo v3 / BYOL: start of the cosine schedule */
  emaMomentum: z.number().min(0).max(1).optional(),
  /** MoCo v2 in one process: batch-norm splits (shuffle-BN substitute) */
  bnSplits: positiveInt.optional(),
  /** Barlow Twins: weight of the off-diagonal terms (default 5e-3) */
  lambda: z.number().positive().optional(),
  /** MoCo v3 with a ViT: keep the random patch projection fixed */
  freezePatchProjection: z.boolean().default(false),
  /** MAE / BEiT: fraction of patches masked (default 0.75 / 0.4); MAE: targets standardised per patch (default true) */
  maskRatio: z.number().gt(0).lt(1).optional(),
  normalizePixels: z.boolean().default(true),
  /** MAE: decoder width and depth (default 512 x 8, or 128 x 4 for grids of 8x8 patches and less) */
  decoderDim: positiveInt.optional(),
  decoderDepth: positiveInt.optional(),
  /** BEiT: the visual tokenizer file from 'selfsup tokenizer train' (its patch size must be the ViT's) */
  tokenizer: z.string().min(1).optional(),
  /** DINO / iBOT: local crops per image (default 6; their side is 96/224 of size) and the teacher temperature after its warm-up from 0.04 (default 0.07) */
  localCrops: z.number().int().min(0).optional(),
  teacherTemperature: z.number().positive().optional(),
  accumulate: positiveInt.default(1),
  clipGrad: z.number().positive().optional(),
  /** auto (default): bfloat16 autocast on CUDA and on CPUs with AMX-BF16 or AVX512-BF16, float32 elsewhere; fp32; bf16 */
  precision: z.enum(PRECISIONS).default('auto'),
  /** the same as precision: bf16 (kept for older configs) */
  mixedPrecision: z.boolean().default(false),
  seed: z.number().int().min(0).default(0),
  workers: perCore(0).optional(),
  threads: perCore(1).optional(),
  checkpointEvery: positiveInt.optional(),
  diagnosticsEvery: positiveInt.default(10),
  /** labelled data for the online kNN monitor (k = 200, T = 0.1): a bank and a query set */
  knnTrain: z.string().min(1).optional(),
  knnTest: z.string().min(1).optional(),
  knnEvery: positiveInt.default(10),
  maxSteps: positiveInt.optional(),
  /** steps with a NaN/Inf loss in a row before the weights and optimizer go back to the last checkpoint (default 3) */
  maxBadSteps: positiveInt.default(3),
  /** continue the run in `out` from its checkpoint (refused when the run's settings or data differ, see allowChanged) */
  resume: z.boolean().default(false),
  /** replace the run already in `out` (without resume or overwrite, an existing run is refused) */
  overwrite: z.boolean().default(false),
  /** with resume: settings the continued run may change on purpose (comma-separated with the flag: batchSize,epochs) */
  allowChanged: z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((k) => k.trim()) : v), z.array(z.string().min(1))).default([]),
  /** continue from another run's checkpoint on this data (domain-adaptive pretraining): its backbone (architecture, size,
   * normalisation) and, for the same method, its heads, teacher and other state; a fresh optimizer and schedule */
  init: z.string().min(1).optional(),
  /** decode an image folder into memory at --size (squashed), the small-image path, instead of streaming photos from disk at their own resolution */
  inMemory: z.boolean().optional(),
  /** decoded-image cache folder for image folders read into memory (default: <out>/../.cache) */
  cache: z.string().optional(),
  /** where the model and batches live: cpu, or cuda / cuda:N with a CUDA libtorch (with --nproc, cuda means cuda:LOCAL_RANK) */
  device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "expected 'cpu', 'cuda' or 'cuda:N'").default('cpu'),
  /** data parallelism: processes on this machine (each with its share of the cores; batchSize is split over all of them) */
  nproc: positiveInt.default(1),
  /** machines of the run, this one's index, and where rank 0 serves the rendezvous (as torchrun's flags) */
  nnodes: positiveInt.default(1),
  nodeRank: z.number().int().min(0).default(0),
  masterAddr: z.string().min(1).default('127.0.0.1'),
  masterPort: z.number().int().min(1).max(65535).optional(),
  /** c10d backend: gloo (CPU) or nccl (CUDA) */
  distBackend: z.enum(['gloo', 'nccl']).default('gloo'),
  /** seconds a collective waits for the other processes before failing */
  distTimeout: z.number().positive().default(1800),
  /** across processes, batch norm statistics over every process's batch (SyncBatchNorm; default on, but for MoCo v2, whose shuffle BN needs per-process statistics) */
  syncBatchNorm: z.boolean().optional(),
}).refine((c) => !(c.mixedPrecision && c.precision === 'fp32'), { message: 'mixedPrecision (bf16) contradicts precision fp32', path: ['precision'] })
  .refine((c) => !(c.resume && c.overwrite), { message: 'resume and overwrite contradict each other: continue the run, or replace it', path: ['overwrite'] })
  .refine((c) => !VIT_ONLY_METHODS.includes(c.method) || c.backbone.startsWith('vit_'), {
  message: `${VIT_ONLY_METHODS.join(', ')} need a ViT backbone: vit_tiny, vit_small or vit_base`, path: ['backbone'],
}).refine((c) => !c.backbone.startsWith('vit_') || c.size === undefined || c.size % (c.patchSize ?? (c.size <= 64 ? 4 : 16)) === 0, {
  message: 'the ViT cuts the image into square patches: size must be a multiple of the patch size (patchSize, default 16; 4 up to 64 px)', path: ['size'],
}).refine((c) => c.method !== 'beit' || c.tokenizer !== undefined, {
  message: "beit needs a visual tokenizer: make one with 'selfsup tokenizer train' and give its file", path: ['tokenizer'],
}).refine((c) => (c.knnTrain === undefined) === (c.knnTest === undefined), { message: 'knnTrain and knnTest go together', path: ['knnTest'] })
  .refine((c) => c.nodeRank < c.nnodes, { message: 'nodeRank must be below nnodes', path: ['nodeRank'] })
  .refine((c) => c.batchSize % (c.nproc * c.nnodes) === 0, { message: 'batchSize (the whole batch) must be a multiple of the processes (nproc x nnodes)', path: ['batchSize'] });

export type PretrainConfig = z.infer<typeof PretrainSchema>;

/** Keys that steer the process (where it writes, how fast, when it stops), not what it trains: not part of the run's identity. */
const PROCESS_KEYS = new Set(['data', 'out', 'resume', 'overwrite', 'allowChanged', 'threads', 'workers', 'checkpointEvery', 'diagnosticsEvery',
  'knnTrain', 'knnTest', 'knnEvery', 'maxSteps', 'maxBadSteps', 'cache', 'device', 'nproc', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort',
  'distBackend', 'distTimeout', 'init']);

/** The settings a resumed run must share with its checkpoint (the trainer adds the data's fingerprint as `data`). */
export const RUN_IDENTITY_KEYS: string[] = [...Object.keys(PretrainSchema.shape).filter((k) => !PROCESS_KEYS.has(k)), 'data'];

export function runIdentity(c: PretrainConfig): RunIdentity {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !PROCESS_KEYS.has(k)));
}

/** The method options a configuration sets (each method keeps its paper's default for the rest); `normalize` is the views'. */
export function methodOptions(c: PretrainConfig, normalize: { mean: number[]; std: number[] }): MethodOptions {
  return {
    tokenizer: c.tokenizer, viewNormalize: normalize,
    temperature: c.temperature, projectionDim: c.projectionDim, hiddenDim: c.hiddenDim, queueSize: c.queueSize,
    momentum: c.emaMomentum, splits: c.bnSplits, lambda: c.lambda, freezePatchProjection: c.freezePatchProjection,
    teacherTemperature: c.teacherTemperature,
    maskRatio: c.maskRatio, normalizePixels: c.normalizePixels, decoderDim: c.decoderDim, decoderDepth: c.decoderDepth,
  };
}
