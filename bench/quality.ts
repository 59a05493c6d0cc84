/**
 * `npm run bench -- quality`: chooses the short-run recipes of the quality tests (test/methodQuality.test.ts and its siblings) honestly.
 * Each recipe (test/helpers/qualityRecipes.ts, or `--only <method>`) pretrains from `--seeds` random
 * encoders on 4,000 of the demo's 5,000 training images and measures weighted kNN (k 200, T 0.1) on the
 * other 1,000 (a seeded validation split; a linear probe where the recipe says), beside the same random encoder's. The demo's test images
 * are touched only with `--split test`, for the numbers reported once for the recipes chosen. `--override '<json>'`
 * tries a variant of the `--only` method's recipe (or, for a method without one yet, a whole recipe).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ImageArray, ImageFolder } from '../src/data/index.js';
import { METHOD_NAMES, type MethodName, buildMethod, methodViews } from '../src/methods/index.js';
import type { Layer } from '../src/nn/index.js';
import { Generator, randperm, resolvePrecision, setNumThreads, tidy } from '../src/tensor/index.js';
import { pretrain } from '../src/train/index.js';
import { QUALITY_BASE_OPTIONS, QUALITY_RECIPES, type QualityRecipe, qualityBackbone, qualityTop1, qualityViews } from '../test/helpers/qualityRecipes.js';
import { round } from './sideBySide.js';

export interface QualityBenchOptions {
  seeds: number;
  split: 'validation' | 'test';
  only?: string;
  /** engine threads: the tests run at one (their numerics, and so each recipe's result, depend on it) */
  threads: number;
  /** JSON merged into the `only` recipe (a variant to try, e.g. '{"steps": 300}'); its rows say so */
  override?: string;
}

const DEMO = fileURLToPath(new URL('../../data/cifar10-demo', import.meta.url));

/** [train, evaluation] at `size` px: 4,000 / 1,000 of the training images, or all 5,000 / the test images. */
async function splitAt(size: number, split: 'validation' | 'test'): Promise<[ImageArray, ImageArray]> {
  const train = await ImageFolder.scan(join(DEMO, 'train')).load({ size });
  if (split === 'test') return [train, await ImageFolder.scan(join(DEMO, 'test')).load({ size })];
  const order = tidy(() => Array.from(randperm(train.length, { generator: new Generator(1234) }).data<BigInt64Array>(), Number));
  return [train.subset(order.slice(1000)), train.subset(order.slice(0, 1000))];
}

export async function qualityBench(o: QualityBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-quality-bench-'));
  const sets = new Map<number, [ImageArray, ImageArray]>();
  const rows: Record<string, unknown>[] = [];
  setNumThreads(o.threads);
  // features at the precision the runs train in, as the tests take them
  const precision = resolvePrecision('auto');
  const recipes: [MethodName, QualityRecipe][] = QUALITY_RECIPES.filter(([n]) => !o.only || n === o.only);
  if (o.override !== undefined) {
    if (!o.only) throw new Error('quality: --override needs --only <method>');
    let variant: Partial<QualityRecipe>;
    try {
      variant = JSON.parse(o.override) as Partial<QualityRecipe>;
    } catch (error) {
      throw new Error(`quality: --override must be a JSON object merged into the recipe, got ${o.override} (${(error as Error).message})`);
    }
    // a method without a recipe yet (one being calibrated) takes the override whole
    const base = recipes[0]?.[1] ?? { size: 32, width: 0.25, steps: 100, optimizer: { name: 'sgd', lr: 0.1, weightDecay: 5e-4, warmupEpochs: 0.5 } };
    if (!(METHOD_NAMES as readonly string[]).includes(o.only)) throw new Error(`quality: unknown method '${o.only}' (expected one of ${METHOD_NAMES.join(', ')})`);
    recipes.splice(0, 1, [o.only as MethodName, { ...base, ...variant, options: { ...base.options, ...variant.options } }]);
  }
  if (recipes.length === 0) throw new Error(`quality: no recipe for '${o.only}' (one of ${QUALITY_RECIPES.map(([n]) => n).join(', ')}, or give one with --override)`);
  for (const [name, r] of recipes) {
    if (!sets.has(r.size)) sets.set(r.size, await splitAt(r.size, o.split));
    const [train, evaluation] = sets.get(r.size)!;
    const top1 = (backbone: Layer) => qualityTop1(r, backbone, train, evaluation, methodViews('eval', { size: r.size }).views[0], precision);
    for (let seed = 0; seed < o.seeds; seed++) {
      const generator = new Generator(seed);
      const { backbone, featureDim } = qualityBackbone(r, generator);
      const method = buildMethod(name, backbone, featureDim, { ...QUALITY_BASE_OPTIONS, ...r.options }, generator);
      const random = top1(backbone);
      const start = performance.now();
      const summary = await pretrain(method, train, qualityViews(name, r), {
        out: join(dir, `${name}-${seed}`), epochs: 100, maxSteps: r.steps, batchSize: 128, clipGrad: r.clipGrad, seed,
        optimizer: r.optimizer, diagnosticsEvery: 1000, log: () => undefined,
      });
      const seconds = (performance.now() - start) / 1000;
      const trained = top1(backbone);
      const row = {
        method: name, ...(o.override ? { override: o.override } : {}), size: r.size, width: r.width, vit: r.vit, steps: r.steps, seed, split: o.split, evaluation: r.evaluation ?? 'knn', random_top1: round(random, 3), top1: round(trained, 3),
        gain_points: round(100 * (trained - random), 1), loss: [round(summary.firstLoss, 3), round(summary.lastLoss, 3)], seconds: round(seconds, 1),
      };
      process.stderr.write(`${JSON.stringify(row)}\n`);
      rows.push(row);
      method.dispose();
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { split: o.split, seeds: o.seeds, threads: o.threads, rows };
}
