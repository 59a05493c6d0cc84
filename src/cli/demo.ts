/**
 * `selfsup demo` (`npm run demo`), the main job on a fresh machine: the cpu-30min recipe (SimCLR,
 * chosen for a time budget on 2 CPU cores: runs/budgetRecipes.ts) on the bundled CIFAR-10 subset
 * (data/cifar10-demo: 5,000 training images, 1,000 test images) for two minutes, then the kNN
 * accuracy of the pretrained backbone against the same backbone at random initialisation.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageArray, openImages } from '../data/index.js';
import { backboneKnn } from '../eval/index.js';
import { buildBackbone } from '../models/index.js';
import type { Layer } from '../nn/index.js';
import { Generator, PRECISIONS, resolvePrecision } from '../tensor/index.js';
import { methodViews } from '../methods/index.js';
import { UsageError, choiceOption, numberOption, parseOptions } from './options.js';
import { pretrainCommand } from './pretrain.js';
import { type RunDescription, loadRunBackbone } from '../runs/index.js';

export const DEMO_DATA = fileURLToPath(new URL('../../../data/cifar10-demo', import.meta.url));

export const DEMO_USAGE = `usage: selfsup demo [--minutes 2] [--out runs/demo] [--precision auto|fp32|bf16]

The cpu-30min recipe (SimCLR, ResNet-18 at quarter width, CIFAR stem; selfsup recipes show cpu-30min)
on ${DEMO_DATA} for --minutes of training, then kNN accuracy (k = 200, T = 0.1) on its test
images against the same backbone at random initialisation. The run lands in --out, replacing the
run an earlier demo left there.`;

/** kNN top-1 with features at the run's precision (as its kNN monitor). */
function knnTop1(backbone: Layer, train: ImageArray, test: ImageArray, run: RunDescription, precision: 'fp32' | 'bf16'): number {
  return backboneKnn(backbone, train, test, methodViews('eval', { size: run.size, normalize: run.normalize }).views[0], { precision }).top1;
}

export async function demoCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, { minutes: { type: 'string' }, out: { type: 'string' }, precision: { type: 'string' } });
  const minutes = numberOption(v, 'minutes', 2);
  const out = typeof v.out === 'string' ? v.out : join('runs', 'demo');
  const [trainSpec, testSpec] = [join(DEMO_DATA, 'train'), join(DEMO_DATA, 'test')];
  if (!existsSync(trainSpec)) {
    // the npm package leaves the demo's 6,000 images out: they come with a clone of the repository
    throw new UsageError(`selfsup demo: its images (${DEMO_DATA}) come with a clone of the repository, not with the npm package; `
      + 'pretrain on your own folder instead: selfsup pretrain --data <folder> --out <run>');
  }
  console.log(`selfsup demo: the cpu-30min recipe (SimCLR) on ${trainSpec} for ${minutes} minutes, then kNN on ${testSpec}`);
  await pretrainCommand([
    '--recipe', 'cpu-30min', '--data', trainSpec, '--out', out, '--overwrite', '--minutes', String(minutes),
    '--knn-train', trainSpec, '--knn-test', testSpec, '--knn-every', '1000',
    ...(typeof v.precision === 'string' ? ['--precision', v.precision] : []),
  ]);
  const { backbone, run } = loadRunBackbone(join(out, 'checkpoint.safetensors'));
  const [train, test] = [await openImages(trainSpec, { size: run.size }), await openImages(testSpec, { size: run.size })];
  const precision = resolvePrecision(choiceOption(v, 'precision', PRECISIONS, 'auto'));
  const pretrained = knnTop1(backbone, train, test, run, precision);
  const random = knnTop1(buildBackbone(run.backboneSpec, new Generator(0)).backbone, train, test, run, precision);
  console.log(`\nkNN top-1 on ${test.length} CIFAR-10 test images (bank: ${train.length} training images):`);
  console.log(`  random initialisation  ${(100 * random).toFixed(2)}%`);
  console.log(`  SimCLR, ${minutes} minutes${' '.repeat(Math.max(0, 7 - String(minutes).length))}${(100 * pretrained).toFixed(2)}%   (${pretrained > random ? '+' : ''}${(100 * (pretrained - random)).toFixed(2)} points)`);
  console.log(`run folder: ${out} (metrics.jsonl, tensorboard/, checkpoint.safetensors, cost.json)`);
}
