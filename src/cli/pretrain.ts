/**
 * `selfsup pretrain`: a self-supervised run from a config file and/or flags. Loads the data,
 * measures its per-channel statistics, builds the backbone and the method with the paper's
 * defaults, and trains with checkpoints, logs, the cost estimate and the kNN monitor. The run's
 * description (backbone, size, normalisation) goes into every checkpoint, so that `selfsup eval`
 * and `selfsup embed` rebuild the backbone from the checkpoint alone.
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { type ImageSet, StreamedImages, alignClasses, channelStats, describeUnmatched, openImageSet, openImages } from '../data/index.js';
import { CHECKPOINT_FILE, claimRunFolder, imageGrid, readCheckpointMetadata, writePng, writeTextFile } from '../io/index.js';
import { METHOD_NAMES, buildMethod, methodRecipe, methodViews, recipeTraining } from '../methods/index.js';
import { type BackboneSpec, buildBackbone } from '../models/index.js';
import { convertSyncBatchNorm } from '../nn/index.js';
import { type Device, Generator, destroyProcessGroup, initProcessGroupFromEnvironment, setDefaultDevice, setNumThreads, tidy } from '../tensor/index.js';
import { type ResolutionSchedule, type RunIdentity, checkResolutionSchedule, checkResumeIdentity, pretrain as train } from '../train/index.js';
import { CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD, type ViewSet, buildViews, previewColumns } from '../transforms/index.js';
import { classCount } from './labelledData.js';
import { launchRanks } from './launchRanks.js';
import { UsageError, parseOptions } from './options.js';
import { pretrainFlags, readPretrainConfig } from './pretrainConfig.js';
import { type PretrainConfig, methodOptions, runIdentity } from '../runs/index.js';
import { type RunDescription, readInitWeights } from '../runs/index.js';

export const PRETRAIN_USAGE = `usage: selfsup pretrain --method <name> --data <spec> --out <dir> [options]
       selfsup pretrain --config run.yaml [options that override it]

  --method <name>        ${METHOD_NAMES.join(', ')}
  --data <spec>          a folder of images, a CSV, a glob ('photos/**/*.jpg'), a .pack (selfsup pack),
                         cifar10:<dir>, stl10:<dir>:unlabeled, fashion-mnist, ... Photos (sizes that differ, or larger
                         than --size) stream from disk, each view cut from the photo at its own resolution;
                         --in-memory decodes them all into memory at --size instead (squashed; for small images)
  --backbone <name>      resnet18 (default), resnet34, resnet50, vit_tiny, vit_small, vit_base
  --epochs <n>           (default 100)        --batch-size <n>   (default 256)
  --minutes <m>          a budget of training time instead of epochs: the schedules run over it (warm-up: warmup
                         epochs / epochs of it); kNN evaluations are not counted, a resumed run spends what is left
  --recipe cpu-30min     a whole run chosen for a small machine (selfsup recipes show cpu-30min); other options override it
  --depth <n>            ViT blocks (default 12)
  Each method trains with its recipe (selfsup recipes; selfsup recipes show <method> prints it as a config);
  every setting below overrides it:
  --optimizer <name>     sgd, lars, adamw; --base-lr (per 256 images) or --lr, --weight-decay, --final-weight-decay, --warmup-epochs
  --temperature <t>      SimCLR 0.5, MoCo v2 0.2, MoCo v3 0.2 (ViT) / 1.0 (ResNet); --projection-dim, --hidden-dim (the heads);
                         --prototypes (DINO, iBOT: 4096; SwAV: 3000)
  --queue-size <k>       MoCo v2's negatives (4096), NNCLR's support set (65536), SwAV's stored embeddings (3840)
  --ema-momentum <m>  --bn-splits <n>  (MoCo v2)   --lambda (Barlow Twins)
  --freeze-patch-projection (MoCo v3 with a ViT)
  --mask-ratio <r>  --normalize-pixels false  --decoder-dim <d>  --decoder-depth <n>   (MAE; needs --backbone vit_*)
  ijepa                  I-JEPA (needs --backbone vit_*): predicts the EMA target encoder's representations of 4
                         blocks from a context block; --decoder-dim/--decoder-depth size its predictor, --ema-momentum
  --tokenizer <file>     BEiT's visual tokenizer (selfsup tokenizer train); --mask-ratio (default 0.4)
  --local-crops <n>  --teacher-temperature <t>   DINO, iBOT (6 local crops, 0.04 -> 0.07; iBOT needs --backbone vit_*);
                         ViT: AdamW 5e-4 x batch/256, weight decay 0.04 -> 0.4 (--final-weight-decay); ResNet: LARS
                         0.3 x batch/256 and a batch-norm head (solo-learn's CIFAR recipe); --clip-grad 3 by default
  nnclr, fastsiam, swav  NNCLR: nearest neighbours from a support set (--queue-size); FastSiam: 4 views (small batches);
                         SwAV: --prototypes, 6 --local-crops, a queue (--queue-size) from --queue-start 0.05 of
                         training, prototypes frozen for --freeze-prototypes 0.01 of it, --sinkhorn-epsilon 0.05
  supervised             the baseline: the backbone + a linear classifier trained with cross-entropy on the labels
                         of --data (random resized crop + flip, SGD 0.1 x batch/256); evaluate its backbone like any run
  --size <px>            view side (default: the images' side; 224 for streamed photos)
  --start-size <px>      progressive resizing (ResNets): the views start at this side and grow to --size between
                         --resize-from (default 0) and --resize-until (default 0.75) of the run (steps, or minutes);
                         0 turns off a recipe's (--recipe cpu-30min --backbone vit_tiny --start-size 0)
  --domain <d>           natural (default), grayscale, aerial
  --knn-train <spec> --knn-test <spec>   labelled data for the kNN monitor, every --knn-every epochs
  --precision <p>        auto (default: bfloat16 autocast on CUDA and on CPUs with AMX-BF16 or AVX512-BF16, see
                         selfsup info; float32 elsewhere), fp32 or bf16 (--mixed-precision is bf16)
  --accumulate <k>  --clip-grad <norm>  --seed <n>  --workers <n>  --threads <n>
  --checkpoint-every <steps>  --max-steps <n>
  --resume               continue the run in --out (refused when its settings or data differ; --allow-changed
                         batchSize,epochs,... to change them on purpose); --overwrite replaces the run there instead
  --max-bad-steps <n>    a NaN/Inf loss skips its step; after n in a row (default 3) the last checkpoint is restored
  --init <checkpoint>    continue another run on this data: its backbone (and size, normalisation), and for the
                         same method its heads and teacher; a fresh optimizer and schedule
  --nproc <n>            data-parallel over n processes on this machine (c10d Gloo; --batch-size is the whole
                         batch, split over them; each gets cores/n threads); --sync-batch-norm false to keep
                         per-process batch norm statistics (the default for moco_v2: its shuffle BN); --dist-timeout <s> (default 1800); --dist-backend nccl (CUDA;
                         not yet run on a GPU: see below)
  --device cuda          train on the GPU (a CUDA libtorch: LIBTORCH); precision auto is bfloat16 autocast there.
                         NOT YET RUN ON A GPU: bench/gpu-check.sh has not passed on one (docs/distributed-and-gpu.md)
  --nnodes <m> --node-rank <k> --master-addr <host> --master-port <p>
                         several machines: the same command on each (or torchrun's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT
                         per process); the run folder must be shared for --resume
Every option is also a key of the config file (camelCase: batchSize, weightDecay, ...).`;

/** `<out>/views.png`: six training images and the views the method's recipe makes of them, for the dashboard and a first look. */
/** The view side of streamed photos when --size is not given: the papers' ImageNet side. */
const PHOTO_SIZE = 224;

async function writeViewsPreview(config: PretrainConfig, data: ImageSet, size: number): Promise<void> {
  const set = pretrainViews(config, size);
  // streamed photos: their centre squares at twice the training side, for the views to be cut from
  const images = data instanceof StreamedImages ? await data.decode(data.spread(6), 2 * size) : data;
  const grid = tidy(() => imageGrid(previewColumns(images.batch(images.spread(6)), set, config.seed), Math.max(96, size)));
  await writePng(join(config.out, 'views.png'), grid);
  grid.dispose();
}

export async function pretrainCommand(argv: string[]): Promise<void> {
  const config = readPretrainConfig(parseOptions(argv, pretrainFlags()));
  if (process.env.WORLD_SIZE === undefined && config.nproc * config.nnodes > 1) {
    process.exitCode = await launchRanks(config);
    return;
  }
  if (config.threads) setNumThreads(config.threads);
  // One GPU per process: --device cuda under a launcher means this process's local rank's GPU.
  const device = config.device === 'cuda' && process.env.LOCAL_RANK !== undefined ? `cuda:${process.env.LOCAL_RANK}` : config.device;
  setDefaultDevice(device as Device);
  const group = initProcessGroupFromEnvironment(process.env, { backend: config.distBackend, timeoutSeconds: config.distTimeout });
  try {
    await pretrainRank(config, group?.rank ?? 0);
  } finally {
    destroyProcessGroup();
  }
}

/**
 * One process's part of the run (all of it without a process group); rank 0 owns the run folder and
 * writes the files. The folder is claimed, and a resumed run's settings checked, before any data is read.
 */
async function pretrainRank(config: PretrainConfig, rank: number): Promise<void> {
  const lock = rank === 0 ? claimRunFolder(config.out, { resume: config.resume, overwrite: config.overwrite }) : null;
  try {
    const checkpoint = join(config.out, CHECKPOINT_FILE);
    if (config.resume && existsSync(checkpoint)) {
      const saved = readCheckpointMetadata(checkpoint).extra.identity as RunIdentity | undefined;
      const current = runIdentity(config);
      if (saved) checkResumeIdentity(checkpoint, Object.fromEntries(Object.keys(current).map((k) => [k, saved[k]])), current, config.allowChanged);
    }
    await trainRank(config, rank);
  } finally {
    lock?.release();
  }
}

/** The views (and masks) a configuration trains on at `size`. */
export function pretrainViews(config: PretrainConfig, size: number, normalize?: { mean: number[]; std: number[] }): ViewSet {
  const recipe = config.views ?? methodRecipe(config.method, config.backbone).views;
  return buildViews(recipe, { size, domain: config.domain, normalize, patchSize: config.patchSize, maskRatio: config.maskRatio, localCrops: config.localCrops }, config.views ? 'views' : config.method);
}

/** The progressive resizing a configuration asks for (startSize, resizeFrom, resizeUntil), or none. */
export function resolutionSchedule(config: PretrainConfig): ResolutionSchedule | undefined {
  if (!config.startSize) return undefined;
  return { startSize: config.startSize, from: config.resizeFrom, until: config.resizeUntil };
}

/** The backbone a configuration trains at `size` (MAE: fixed sin-cos positions; BEiT: layer scale and mean pooling). */
export function pretrainBackboneSpec(config: PretrainConfig, size: number): BackboneSpec {
  return { name: config.backbone, imageSize: size, stem: config.stem, width: config.width, patchSize: config.patchSize,
    ...(config.depth !== undefined ? { depth: config.depth } : {}), ...methodRecipe(config.method, config.backbone).vitOptions };
}

async function trainRank(config: PretrainConfig, rank: number): Promise<void> {
  const cache = config.cache ?? join(dirname(resolve(config.out)), '.cache');
  const init = config.init ? readInitWeights(config.init) : undefined;
  if (init && init.run.backboneSpec.name !== config.backbone) {
    init.dispose();
    throw new UsageError(`--init ${config.init}: a ${init.run.backboneSpec.name} run, but this run's backbone is ${config.backbone} (--backbone ${init.run.backboneSpec.name})`);
  }
  const images = await openImageSet(config.data, { size: init?.run.size ?? config.size, cache, storage: config.inMemory ? 'memory' : 'auto' });
  if (config.method === 'supervised' && !images.labels) throw new UsageError(`--method supervised needs labelled data: ${config.data} has no labels (class folders, a CSV with labels, CIFAR, ...)`);
  const numClasses = config.method === 'supervised' ? classCount(images) : undefined;
  const size = init?.run.size ?? config.size ?? (images instanceof StreamedImages ? PHOTO_SIZE : Math.min(images.height, images.width));
  const resolution = resolutionSchedule(config);
  if (resolution) {
    try { checkResolutionSchedule(resolution, size); } catch (error) { throw new UsageError(`--start-size ${config.startSize}: ${(error as Error).message}`); }
  }
  if (images instanceof StreamedImages && rank === 0) {
    console.error(`streaming ${images.length} photos from ${config.data}: views cut from each at its own resolution${config.size === undefined && !init ? ` at ${size} px (--size to change)` : ''}`);
  }
  // a continued run keeps the normalisation its backbone learned with
  const normalize = init?.run.normalize ?? (config.normalize === 'data' ? channelStats(images instanceof StreamedImages ? await images.decode(images.spread(512), 64) : images)
    : config.normalize === 'cifar10' ? { mean: CIFAR10_MEAN, std: CIFAR10_STD } : { mean: IMAGENET_MEAN, std: IMAGENET_STD });
  const views = pretrainViews(config, size, normalize);
  if (rank === 0) await writeViewsPreview(config, images, size);
  const generator = new Generator(config.seed);
  const backboneSpec = pretrainBackboneSpec(config, size);
  const { backbone, featureDim } = buildBackbone(init?.run.backboneSpec ?? backboneSpec, generator);
  // the backbone first, so momentum encoders built from it start from the loaded weights
  if (init) tidy(() => { backbone.loadStateDict(init.backbone, { strict: true }); });
  const method = buildMethod(config.method, backbone, featureDim, { ...methodOptions(config, normalize), numClasses }, generator);
  if (init) {
    if (init.run.method === config.method) tidy(() => { method.loadStateDict(init.model, { strict: true }); });
    if (rank === 0) console.error(`initialised from ${config.init} (a ${init.run.method} run): ${init.run.method === config.method ? 'backbone, heads and method state' : 'the backbone only (another method)'}`);
    init.dispose();
  }
  const recipe = methodRecipe(config.method, config.backbone);
  if (config.syncBatchNorm ?? recipe.syncBatchNorm ?? true) convertSyncBatchNorm(method);
  const run: RunDescription = { backboneSpec: init?.run.backboneSpec ?? backboneSpec, normalize, size, method: config.method, backboneKey: method.backboneKey, ...(numClasses ? { numClasses } : {}), cwd: process.cwd() };
  let knn;
  if (config.knnTrain && config.knnTest) {
    const [bank, queries] = [await openImageSet(config.knnTrain, { size, cache }), await openImageSet(config.knnTest, { size, cache })];
    if (!bank.labels || !queries.labels) throw new Error('--knn-train and --knn-test must have labels (class folders, CIFAR, ...)');
    const leftOut = describeUnmatched(alignClasses(bank, queries, { unknown: 'drop' }).unmatched, '--knn-test images', '--knn-train bank', 'are left out of the kNN accuracy');
    if (leftOut && rank === 0) console.error(leftOut);
    knn = { train: bank, test: queries, view: methodViews('eval', { size, normalize }).views[0], every: config.knnEvery };
  }
  const training = recipeTraining(recipe, config);
  const summary = await train(method, images, views, {
    out: config.out, epochs: config.epochs, batchSize: config.batchSize, accumulate: config.accumulate,
    optimizer: { ...training.optimizer, momentum: config.momentum },
    clipGrad: training.clipGrad, precision: config.precision, mixedPrecision: config.mixedPrecision, seed: config.seed, workers: config.workers,
    checkpointEvery: config.checkpointEvery, diagnosticsEvery: config.diagnosticsEvery, knn, resume: config.resume, overwrite: config.overwrite,
    identity: runIdentity(config), allowChanged: config.allowChanged,
    maxSteps: config.maxSteps, minutes: config.minutes, resolution, maxBadSteps: config.maxBadSteps, config: { ...config, run },
  });
  if (rank !== 0) return;
  writeTextFile(join(config.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const knnLine = summary.knn ? `, kNN top-1 ${(100 * summary.knn.top1).toFixed(2)}%` : '';
  const written = summary.checkpoint ? `checkpoint ${summary.checkpoint.path} (step ${summary.checkpoint.step})` : 'no checkpoint';
  const skipped = Object.keys(summary.skippedImages ?? {}).length;
  if (skipped > 0) console.error(`${skipped} unreadable photo${skipped > 1 ? 's' : ''} skipped, each replaced by the next readable one (named above; listed in ${join(config.out, 'summary.json')})`);
  console.log(`pretrained ${config.method} (${config.backbone}) for ${summary.steps} steps: loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)}${knnLine}; ` +
    `${summary.imagesPerSecond.toFixed(1)} img/s; ${written}`);
}
