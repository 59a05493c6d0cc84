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
import { MASKED_IMAGE_METHODS, METHOD_NAMES, type MethodOptions, SELF_DISTILLATION_METHODS, VIT_ONLY_METHODS, methodRecipe } from '../methods/index.js';
import { BACKBONES } from '../models/index.js';
import { PRECISIONS, maxThreads } from '../tensor/index.js';
import type { RunIdentity } from '../train/index.js';
import { BUDGET_RECIPE_NAMES } from './budgetRecipes.js';
import type { ViewTemplate } from '../transforms/index.js';

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);
const range = z.tuple([z.number(), z.number()]);

/** One view of a recipe (src/transforms/viewPipeline.ts's ViewConfig without size and normalisation). */
const ViewTemplateSchema = z.strictObject({
  crop: z.union([z.strictObject({ scale: range.optional(), ratio: range.optional() }), z.enum(['center', 'resize'])]).optional(),
  centerFraction: z.number().gt(0).max(1).optional(),
  interpolation: z.enum(['bilinear', 'bicubic', 'nearest']).optional(),
  horizontalFlip: probability.optional(),
  verticalFlip: probability.optional(),
  rotate90: probability.optional(),
  colorJitter: z.strictObject({
    brightness: z.union([z.number().min(0), range]).optional(), contrast: z.union([z.number().min(0), range]).optional(),
    saturation: z.union([z.number().min(0), range]).optional(), hue: z.union([z.number().min(0).max(0.5), range]).optional(), p: probability.optional(),
  }).optional(),
  grayscale: probability.optional(),
  blur: z.strictObject({ kernelSize: positiveInt.optional(), sigma: range.optional(), p: probability.optional() }).optional(),
  solarize: z.strictObject({ p: probability, threshold: z.number().optional() }).optional(),
});
// The schema checks the values of a ViewTemplate (transforms/presets.ts); the two must describe the same
// object, so this line stops compiling when a field is added to one of them and not to the other.
type SameShape<A, B> = [A, B] extends [B, A] ? ([keyof A, keyof B] extends [keyof B, keyof A] ? true : never) : never;
const viewTemplateMatches: SameShape<z.infer<typeof ViewTemplateSchema>, ViewTemplate> = true;
void viewTemplateMatches;

/** A method's views as a config writes them (`selfsup recipes show` prints the recipe's; src/transforms/presets.ts). */
export const ViewRecipeSchema = z.strictObject({
  views: z.array(ViewTemplateSchema).min(1),
  localViews: z.strictObject({ count: z.number().int().min(0), sideFraction: z.number().gt(0).max(1), view: ViewTemplateSchema }).optional(),
  mask: z.strictObject({ kind: z.enum(['random', 'blockwise']), ratio: z.number().gt(0).lt(1), cellPatches: z.number().int().positive().optional() }).optional(),
  smallImageColorStrength: z.number().min(0).optional(),
});
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
  /** ViT blocks (default the model's 12): fewer for a small budget */
  depth: positiveInt.optional(),
  /** view side in pixels (default: the images' side); image folders are resized to it when loaded */
  size: positiveInt.optional(),
  domain: z.enum(['natural', 'grayscale', 'aerial']).default('natural'),
  /** per-channel statistics: measured on the data (default), or ImageNet's / CIFAR-10's */
  normalize: z.enum(['data', 'imagenet', 'cifar10']).default('data'),
  epochs: positiveInt.default(100),
  /** a budget of training time instead of epochs: the run stops when it is spent, and its schedules run over the
   * budget (the warm-up takes warmupEpochs / epochs of it); `epochs` then only sets that share */
  minutes: z.number().positive().optional(),
  /** progressive resizing (train/resolutionSchedule.ts; ResNets, not masked image modelling): the views' side at the start, growing
   * linearly to `size` between the fractions resizeFrom (default 0) and resizeUntil (default 0.75) of the run; 0 turns off a recipe's */
  startSize: z.number().int().min(0).optional(),
  resizeFrom: z.number().min(0).lt(1).optional(),
  resizeUntil: z.number().gt(0).max(1).optional(),
  /** the whole-run recipe the configuration started from (runs/budgetRecipes.ts: cpu-30min) */
  recipe: z.enum(BUDGET_RECIPE_NAMES as [string, ...string[]]).optional(),
  batchSize: z.number().int().min(2).default(256),
  /** the views the method trains on (default: its recipe's; `selfsup recipes show <method>` prints them) */
  views: ViewRecipeSchema.optional(),
  /** default: the method's recipe's (selfsup recipes) */
  optimizer: z.enum(['sgd', 'lars', 'adamw']).optional(),
  /** the learning rate itself; default baseLr x batchSize x accumulate / 256 */
  lr: z.number().positive().optional(),
  /** the learning rate per 256 images (default: the recipe's; another optimizer's usual one when optimizer differs from the recipe's) */
  baseLr: z.number().positive().optional(),
  weightDecay: z.number().min(0).optional(),
  /** AdamW's (beta1, beta2) (default: the recipe's, MAE (0.9, 0.95); else PyTorch's (0.9, 0.999)) */
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).optional(),
  /** the weight decay at the end, on a cosine from weightDecay (default: the recipe's; constant for most, DINO/iBOT on a ViT 0.04 -> 0.4) */
  finalWeightDecay: z.number().min(0).optional(),
  momentum: z.number().min(0).max(1).default(0.9),
  warmupEpochs: z.number().min(0).optional(),
  /** the method's defaults when unset: SimCLR 0.5, MoCo v2 0.2, MoCo v3 0.2 (ViT) / 1.0 (ResNet) */
  temperature: z.number().positive().optional(),
  /** head sizes; each method's recipe when unset (SimCLR 2048 -> 128, BYOL 4096 -> 256, ...); Barlow Twins and VICReg: the projector's width */
  projectionDim: positiveInt.optional(),
  hiddenDim: positiveInt.optional(),
  /** DINO / iBOT: prototypes, the head's output (default 4096); SwAV's prototypes (3000) */
  prototypes: positiveInt.optional(),
  /** DINO / iBOT head: batch norm in its hidden layers, the last layer's norm fixed at 1 (default: the recipe's, by backbone) */
  headBatchNorm: z.boolean().optional(),
  normLastLayer: z.boolean().optional(),
  /** MoCo v2: negatives in the queue (default 4096); NNCLR's support set (65536); SwAV's stored embeddings per global crop (3840) */
  queueSize: positiveInt.optional(),
  /** SwAV: Sinkhorn-Knopp's epsilon (0.05); the fractions of training with the prototypes frozen (0.01) and before the queue fills (0.05):
   * the SwAV authors' levers for a loss stuck at log K (a lower epsilon, longer freezing, a later queue) */
  sinkhornEpsilon: z.number().positive().optional(),
  freezePrototypes: probability.optional(),
  queueStart: probability.optional(),
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
}).refine((c) => c.depth === undefined || c.backbone.startsWith('vit_'), {
  message: 'depth is the number of ViT blocks: a ResNet\'s depth is in its name (resnet18, resnet34, resnet50)', path: ['depth'],
}).refine((c) => !c.startSize || (c.backbone.startsWith('resnet') && !MASKED_IMAGE_METHODS.includes(c.method)), {
  message: 'progressive resizing (startSize) works with ResNet backbones and methods without patch masks (startSize 0 turns off a recipe\'s)', path: ['startSize'],
}).refine((c) => !c.startSize || c.size === undefined || c.startSize < c.size, {
  message: 'startSize is where progressive resizing starts: below size, the views\' side at the end', path: ['startSize'],
}).refine((c) => (c.resizeFrom ?? 0) < (c.resizeUntil ?? 0.75), { message: 'resizeFrom must be below resizeUntil (fractions of the run)', path: ['resizeUntil'] })
  .refine((c) => c.startSize !== undefined || (c.resizeFrom === undefined && c.resizeUntil === undefined), {
  message: 'resizeFrom and resizeUntil shape progressive resizing: set startSize too', path: ['startSize'],
}).refine((c) => c.method !== 'beit' || c.tokenizer !== undefined, {
  message: "beit needs a visual tokenizer: make one with 'selfsup tokenizer train' and give its file", path: ['tokenizer'],
}).refine((c) => !(SELF_DISTILLATION_METHODS.includes(c.method) && c.projectionDim !== undefined), {
  message: "DINO and iBOT's head ends in prototypes: set prototypes (projectionDim is the other methods' projection width)", path: ['projectionDim'],
}).refine((c) => !(c.lr !== undefined && c.baseLr !== undefined), { message: 'lr and baseLr both set the learning rate: give one', path: ['baseLr'] })
  .refine((c) => (c.knnTrain === undefined) === (c.knnTest === undefined), { message: 'knnTrain and knnTest go together', path: ['knnTest'] })
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

/**
 * The method options of a run: its recipe's (methods/<method>.ts), with what the configuration sets
 * (each method keeps its own default for what neither says); `normalize` is the views'.
 */
export function methodOptions(c: PretrainConfig, normalize: { mean: number[]; std: number[] }): MethodOptions {
  const r = methodRecipe(c.method, c.backbone).options;
  return {
    tokenizer: c.tokenizer, viewNormalize: normalize,
    temperature: c.temperature ?? r.temperature, projectionDim: c.projectionDim ?? r.projectionDim, hiddenDim: c.hiddenDim ?? r.hiddenDim,
    prototypes: c.prototypes ?? r.prototypes, queueSize: c.queueSize ?? r.queueSize, momentum: c.emaMomentum ?? r.emaMomentum,
    sinkhornEpsilon: c.sinkhornEpsilon, freezePrototypes: c.freezePrototypes, queueStart: c.queueStart,
    splits: c.bnSplits, lambda: c.lambda ?? r.lambda, freezePatchProjection: c.freezePatchProjection,
    teacherTemperature: c.teacherTemperature ?? r.teacherTemperature, headBatchNorm: c.headBatchNorm ?? r.headBatchNorm, normLastLayer: c.normLastLayer ?? r.normLastLayer,
    maskRatio: c.maskRatio, normalizePixels: c.normalizePixels ?? r.normalizePixels, decoderDim: c.decoderDim ?? r.decoderDim, decoderDepth: c.decoderDepth ?? r.decoderDepth,
  };
}

/** An older run's configuration in today's names: DINO / iBOT wrote their prototypes as projectionDim. */
export function migrateRunConfig(config: Record<string, unknown>): Record<string, unknown> {
  if ((config.method === 'dino' || config.method === 'ibot') && config.projectionDim !== undefined && config.prototypes === undefined) {
    const { projectionDim, ...rest } = config;
    return { ...rest, prototypes: projectionDim };
  }
  return config;
}
