/**
 * Time to accuracy (`npm run bench -- speedrun [--minutes 30] [--json]`): the best CIFAR-10 encoder in
 * a fixed wall-clock budget on this machine. From the 60,000 CIFAR-10 JPEGs of
 * ../shared/data/cifar10-jpg.tar.gz (our machines and CI only): 2,000 of the 50,000 training images
 * (200 per class, seeded) are the validation split, held out of pretraining; the other 48,000 are
 * pretrained on without labels with a whole-run recipe (`--recipe cpu-30min`, runs/budgetRecipes.ts;
 * `--override '<json>'` changes any of its keys, as a config file would), their decoding into memory
 * counted in the budget. Every `--curve-every` minutes, and at the end, the weighted kNN (k 200,
 * T 0.1) of the backbone on the validation split with the 48,000 as the bank (evaluations are not
 * counted); with `--split test` (the default), the final backbone's kNN on the 10,000 test images
 * too: `knn_top1`. Choose recipes with `--split validation`, which never reads the test images.
 * The PyTorch peer (bench/peers/methods.py --mode speedrun) runs the same recipe for the same
 * budget, its fastest precision and memory format chosen first: `peer_knn_top1`.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pretrainBackboneSpec, pretrainViews, resolutionSchedule } from '../src/cli/pretrain.js';
import { formatIssues } from '../src/cli/pretrainConfig.js';
import { type ImageArray, ImageFolder, channelStats } from '../src/data/index.js';
import { backboneKnn } from '../src/eval/index.js';
import { buildMethod, methodRecipe, methodViews, recipeTraining } from '../src/methods/index.js';
import { buildBackbone } from '../src/models/index.js';
import { BUDGET_RECIPES, type PretrainConfig, PretrainSchema, methodOptions } from '../src/runs/index.js';
import { Generator, describePrecision, randperm, resolvePrecision, setNumThreads, tidy } from '../src/tensor/index.js';
import { type TrainerCallback, pretrain } from '../src/train/index.js';
import { cacheDir, cifarJpegRoot } from './cifarJpegs.js';
import { TCMALLOC, runPeer } from './peer.js';

export interface SpeedrunOptions {
  recipe: string;
  /** the recipe's keys to change (JSON), as a config file would */
  override?: string;
  /** the budget in minutes (default: the recipe's) */
  minutes?: number;
  split: 'validation' | 'test';
  curveEvery: number;
  threads: number;
  peer: boolean;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Folders of hard links: the 48,000 training images pretrained on and the 2,000 held out (200 per class), made once. */
function speedrunFolders(): { train: string; validation: string; test: string } {
  const root = cifarJpegRoot();
  const out = join(cacheDir, 'cifar10-speedrun');
  const folders = { train: join(out, 'train'), validation: join(out, 'validation'), test: join(root, 'test') };
  if (existsSync(out)) return folders;
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  const generator = new Generator(28);
  for (const cls of readdirSync(join(root, 'train')).sort()) {
    const files = readdirSync(join(root, 'train', cls)).sort();
    const order = tidy(() => Array.from(randperm(files.length, { generator }).data<BigInt64Array>(), Number));
    for (const [split, picked] of [['validation', order.slice(0, 200)], ['train', order.slice(200)]] as const) {
      mkdirSync(join(temp, split, cls), { recursive: true });
      for (const i of picked) linkSync(join(root, 'train', cls, files[i]), join(temp, split, cls, files[i]));
    }
  }
  renameSync(temp, out);
  return folders;
}

export async function speedrunBench(o: SpeedrunOptions): Promise<Record<string, unknown>> {
  setNumThreads(o.threads);
  const recipe = Object.hasOwn(BUDGET_RECIPES, o.recipe) ? BUDGET_RECIPES[o.recipe] : undefined;
  if (!recipe) throw new Error(`speedrun: unknown recipe '${o.recipe}' (expected one of ${Object.keys(BUDGET_RECIPES).join(', ')})`);
  const folders = speedrunFolders();
  const out = join(cacheDir, 'speedrun-run');
  const override = o.override ? JSON.parse(o.override) as Record<string, unknown> : {};
  const parsed = PretrainSchema.safeParse({
    ...recipe.config, recipe: o.recipe, ...override, ...(o.minutes !== undefined ? { minutes: o.minutes } : {}), data: folders.train, out, overwrite: true,
  });
  if (!parsed.success) throw new Error(`speedrun: bad configuration:\n${formatIssues(parsed.error)}`);
  const config: PretrainConfig = parsed.data;
  const minutes = config.minutes!;
  const size = config.size ?? 32;

  // the budget's clock starts here: decoding the images (as selfsup pretrain --data <folder> does) counts
  const started = performance.now();
  const train = await ImageFolder.scan(folders.train).load({ size });
  const normalize = channelStats(train);
  const prepSeconds = (performance.now() - started) / 1000;
  const validation = await ImageFolder.scan(folders.validation).load({ size });

  const generator = new Generator(config.seed);
  const { backbone, featureDim } = buildBackbone(pretrainBackboneSpec(config, size), generator);
  const method = buildMethod(config.method, backbone, featureDim, methodOptions(config, normalize), generator);
  const training = recipeTraining(methodRecipe(config.method, config.backbone), config);
  const precision = resolvePrecision(config.precision);
  const evalView = methodViews('eval', { size, normalize }).views[0];
  const knn = (queries: ImageArray) => backboneKnn(backbone, train, queries, evalView, { precision }).top1;
  const curve: { minutes: number; knn_top1: number }[] = [];
  let nextMark = 60 * o.curveEvery;
  const validationCurve: TrainerCallback = {
    onStep: (_record, context) => {
      const elapsed = prepSeconds + context.trainedSeconds;
      if (elapsed < nextMark && !context.lastStep) return;
      curve.push({ minutes: round(elapsed / 60, 2), knn_top1: round(knn(validation)) });
      process.stderr.write(`speedrun: ${curve.at(-1)!.minutes} min, validation kNN top-1 ${(100 * curve.at(-1)!.knn_top1).toFixed(2)}%\n`);
      while (nextMark <= elapsed) nextMark += 60 * o.curveEvery;
    },
  };
  const summary = await pretrain(method, train, pretrainViews(config, size, normalize), {
    out, overwrite: true, epochs: config.epochs, batchSize: config.batchSize, minutes: minutes - prepSeconds / 60,
    optimizer: { ...training.optimizer, momentum: config.momentum }, clipGrad: training.clipGrad, precision: config.precision,
    seed: config.seed, workers: config.workers, resolution: resolutionSchedule(config), checkpointEvery: 1_000_000, callbacks: [validationCurve], config: { ...config },
  });
  const imagesSeen = summary.steps * config.batchSize;
  const result: Record<string, unknown> = {
    recipe: o.recipe, override, split: o.split, method: config.method, backbone: config.backbone, width: config.width, batch: config.batchSize,
    precision: describePrecision(config.precision), threads: o.threads,
    minutes: round((prepSeconds + summary.trainedSeconds) / 60, 2), prep_seconds: round(prepSeconds, 1), steps: summary.steps,
    images_seen: imagesSeen, img_per_s: round(imagesSeen / summary.trainedSeconds, 1), first_loss: round(summary.firstLoss), last_loss: round(summary.lastLoss),
    validation_knn_top1: curve.at(-1)?.knn_top1, curve,
  };
  if (o.split === 'test') result.knn_top1 = round(knn(await ImageFolder.scan(folders.test).load({ size })));
  method.dispose();

  if (o.peer) {
    if (config.method !== 'simclr' || config.backbone !== 'resnet18' || size !== 32) {
      result.peer = 'not run: bench/peers/methods.py --mode speedrun has SimCLR on a 32-px ResNet-18 only';
    } else {
      const peer = runPeer('methods.py', [
        '--mode', 'speedrun', '--method', config.method, '--data', folders.train, '--val', folders.validation, ...(o.split === 'test' ? ['--test', folders.test] : []),
        '--minutes', String(minutes), '--batch', String(config.batchSize), '--width', String(config.width), '--lr', String(training.optimizer.lr),
        '--weight-decay', String(training.optimizer.weightDecay), '--warmup-share', String(Math.min(1, (training.optimizer.warmupEpochs ?? 0) / config.epochs)),
        '--hidden', String(config.hiddenDim ?? 2048), '--temperature', String(config.temperature ?? 0.5), '--curve-every', String(o.curveEvery), '--threads', String(o.threads), '--workers', '2',
        ...(config.startSize ? ['--start-size', String(config.startSize), '--resize-from', String(config.resizeFrom ?? 0), '--resize-until', String(config.resizeUntil ?? 0.75)] : []),
        '--modes', 'fp32,channels_last,bf16,bf16+channels_last', '--warmup', '2', '--steps', '6', '--seed', String(config.seed),
      ], { LD_PRELOAD: TCMALLOC });
      result.peer = peer;
      result.peer_knn_top1 = o.split === 'test' ? peer.knn_top1 : undefined;
      result.peer_validation_knn_top1 = (peer.curve as { knn_top1: number }[]).at(-1)?.knn_top1;
    }
  }
  return result;
}
