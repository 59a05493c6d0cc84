// Recipes as data (src/methods/<method>.ts): what `selfsup recipes show` prints is a config that
// trains exactly as the recipe does, edits to it reach the run, and option names mean one thing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readCheckpointMetadata } from '../src/io/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { recipeYaml } from '../src/cli/recipes.js';
import { pretrainViews, resolutionSchedule } from '../src/cli/pretrain.js';
import { readPretrainConfig } from '../src/cli/pretrainConfig.js';
import { ImageFolder } from '../src/data/index.js';
import {
  METHOD_NAMES, METHOD_RECIPES, type MethodName, type MethodRecipe, type MethodStep, SSLMethod, methodRecipe, methodViews, recipeTraining,
} from '../src/methods/index.js';
import { BUDGET_RECIPES, PretrainSchema, methodOptions, migrateRunConfig } from '../src/runs/index.js';
import { resnet18 } from '../src/models/index.js';
import { type Layer, MLP } from '../src/nn/index.js';
import { Generator, type Tensor, cat, normalize } from '../src/tensor/index.js';
import { buildViews } from '../src/transforms/index.js';
import { pretrain } from '../src/train/index.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-recipes-'));
const stats = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const place = { data: 'photos/', out: 'runs/a' };

/** The config a user gets from `--config <file> --data photos/ --out runs/a`. */
function fromFile(yaml: string, flags: Record<string, string> = {}) {
  const file = join(dir, `recipe-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return readPretrainConfig({ config: file, ...place, ...flags });
}

/** Every method with each backbone family its recipe covers. */
const cases: [MethodName, string][] = METHOD_NAMES.flatMap((m) => (['resnet18', 'vit_tiny'] as const)
  .filter((b) => METHOD_RECIPES[m][b === 'vit_tiny' ? 'vit' : 'resnet']).map((b): [MethodName, string] => [m, b]));

// docs/architecture.md's example of a method selfsup does not have: a file with the method and its recipe, nothing else touched.
/** The spectral contrastive loss (HaoChen et al., 2021, Eq. 5) on unit embeddings: -2 E[z1 . z2] + E[(z1 . z2')^2] over the batch's pairs. */
class SpectralContrastive extends SSLMethod {
  readonly projection: Layer;
  constructor(readonly backbone: Layer, featureDim: number, generator?: Generator) {
    super();
    this.registerModule('backbone', backbone);
    this.projection = this.registerModule('projection', new MLP([featureDim, 256, 64], { norm: 'batch', generator }));
  }
  step([a, b]: Tensor[]): MethodStep {
    const n = a.size(0);
    const z = normalize(this.projection.forward(this.backbone.forward(cat([a, b], 0))), { dim: 1 });   // [2N, 64], unit rows
    const [z1, z2] = [z.narrow(0, 0, n), z.narrow(0, n, n)];
    const pairs = z1.matmul(z2.transpose(0, 1));                                 // [N, N]: z1_i . z2_j
    const loss = pairs.diagonal().mean().mul(-2).add(pairs.square().mean());
    return { loss, embeddings: [z1.detach(), z2.detach()] as [Tensor, Tensor] };
  }
}
const SPECTRAL_RECIPE: MethodRecipe = {
  source: 'HaoChen et al., 2021 (spectral contrastive loss), with SimCLR\'s views',
  views: METHOD_RECIPES.simclr.resnet!.views,
  optimizer: 'sgd', baseLr: 0.2, weightDecay: 5e-4, warmupEpochs: 1,
  options: {},
};

describe('recipes', () => {
  test('the printed recipe, passed back with --config, trains as the recipe does: views, optimizer, schedules, method options', () => {
    assert.equal(cases.length, 31);
    for (const [method, backbone] of cases) {
      const shown = fromFile(recipeYaml(method, backbone), method === 'beit' ? { tokenizer: 'tok.safetensors' } : {});
      const plain = readPretrainConfig({ method, backbone, ...place, ...(method === 'beit' ? { tokenizer: 'tok.safetensors' } : {}) });
      const what = `${method} on ${backbone}`;
      for (const size of [32, 224]) {
        assert.deepEqual(pretrainViews(shown, size, stats), pretrainViews(plain, size, stats), `${what}: views at ${size}`);
        assert.deepEqual(pretrainViews(plain, size, stats), methodViews(method, { size, normalize: stats }), `${what}: the recipe's views`);
      }
      for (const batchSize of [64, 1024]) {
        assert.deepEqual(recipeTraining(methodRecipe(method, backbone), { ...shown, batchSize }), recipeTraining(methodRecipe(method, backbone), { ...plain, batchSize }), `${what}: optimizer`);
      }
      assert.deepEqual(methodOptions(shown, stats), methodOptions(plain, stats), `${what}: method options`);
      // and the file says all of it itself: against a recipe that holds nothing, it still trains the same
      const recipe = methodRecipe(method, backbone);
      const empty: MethodRecipe = { source: '', views: { views: [{}] }, optimizer: shown.optimizer!, baseLr: 1, weightDecay: 1, warmupEpochs: 0, options: {} };
      assert.deepEqual(recipeTraining(empty, shown), recipeTraining(recipe, plain), `${what}: the file's optimizer settings`);
      assert.deepEqual(shown.views, recipe.views, `${what}: the file's views`);
      assert.equal(shown.syncBatchNorm, recipe.syncBatchNorm, `${what}: the file's batch-norm synchronisation`);
      for (const [key, value] of Object.entries(recipe.options)) assert.deepEqual(shown[key as keyof typeof shown], value, `${what}: the file's ${key}`);
    }
  });

  test('an edited recipe reaches the run: learning rate per 256 images, views, method options', () => {
    const recipe = parseYaml(recipeYaml('dino', 'vit_tiny')) as Record<string, any>;
    recipe.baseLr = 1e-3;
    recipe.prototypes = 1024;
    recipe.views.localViews.count = 2;
    recipe.views.views[0].crop.scale = [0.5, 1];
    const config = fromFile(stringify(recipe), { 'batch-size': '512' });
    const training = recipeTraining(methodRecipe('dino', 'vit_tiny'), config);
    assert.equal(training.optimizer.lr, 2e-3, 'baseLr x 512 / 256');
    assert.equal(training.optimizer.finalWeightDecay, 0.4);
    assert.equal(training.clipGrad, 3);
    const views = pretrainViews(config, 32, stats);
    assert.equal(views.views.length, 4, '2 global + 2 local crops');
    assert.deepEqual(views.views[0].crop, { scale: [0.5, 1] });
    assert.deepEqual(views.views[1].crop, { scale: [0.4, 1] }, 'the second global crop keeps its own');
    assert.equal(methodOptions(config, stats).prototypes, 1024);
  });

  test('the recipes hold the papers\' values, scaled to the run', () => {
    // DINO on a ViT at batch 512 for 50 epochs: AdamW 5e-4 x 2, weight decay 0.04 -> 0.4, clipping 3, warm-up 5 (a tenth of the run)
    assert.deepEqual(recipeTraining(methodRecipe('dino', 'vit_small'), { batchSize: 512, epochs: 50 }),
      { optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0.04, finalWeightDecay: 0.4, warmupEpochs: 5 }, clipGrad: 3 });
    // on a ResNet: LARS 0.3 per 256, a batch-norm head with a free last layer
    assert.equal(recipeTraining(methodRecipe('dino', 'resnet18'), { batchSize: 256, epochs: 100 }).optimizer.name, 'lars');
    assert.deepEqual([methodRecipe('dino', 'resnet50').options.headBatchNorm, methodRecipe('dino', 'resnet50').options.normLastLayer], [true, false]);
    // MAE: AdamW 1.5e-4 per 256 with betas (0.9, 0.95); another optimizer brings its own lr and leaves the betas
    assert.deepEqual(recipeTraining(methodRecipe('mae', 'vit_base'), { batchSize: 4096, epochs: 800 }),
      { optimizer: { name: 'adamw', lr: 2.4e-3, weightDecay: 0.05, betas: [0.9, 0.95], warmupEpochs: 10 } });
    assert.deepEqual(recipeTraining(methodRecipe('mae', 'vit_base'), { batchSize: 256, epochs: 800, optimizer: 'sgd' }),
      { optimizer: { name: 'sgd', lr: 0.06, weightDecay: 5e-4, warmupEpochs: 10 } });
    // MoCo v3's temperature depends on the backbone
    assert.deepEqual([methodRecipe('moco_v3', 'resnet18').options.temperature, methodRecipe('moco_v3', 'vit_tiny').options.temperature], [1, 0.2]);
    // SimCLR at 32 px: colour strength 0.5 and no blur (App. B.9); at 224 the full recipe
    const [small, large] = [methodViews('simclr', { size: 32 }).views[0], methodViews('simclr', { size: 224 }).views[0]];
    assert.deepEqual([small.colorJitter?.brightness, small.colorJitter?.hue, small.blur], [0.4, 0.1, undefined]);
    assert.deepEqual([large.colorJitter?.brightness, large.blur?.p], [0.8, 0.5]);
    assert.throws(() => methodRecipe('mae', 'resnet18'), /mae.*no recipe for a ResNet.*ViTs/);
  });

  test('option names mean one thing: DINO\'s prototypes are not a projection width; old runs still load', () => {
    const refused = PretrainSchema.safeParse({ method: 'dino', ...place, projectionDim: 256 });
    assert.ok(!refused.success && refused.error.issues.some((i) => i.path[0] === 'projectionDim' && /prototypes/.test(i.message)));
    const both = PretrainSchema.safeParse({ method: 'simclr', ...place, lr: 0.1, baseLr: 0.1 });
    assert.ok(!both.success && both.error.issues.some((i) => i.path[0] === 'baseLr'));
    const old = migrateRunConfig({ method: 'dino', ...place, projectionDim: 256 });
    const parsed = PretrainSchema.parse(old);
    assert.equal(methodOptions(parsed, stats).prototypes, 256);
    assert.equal(methodOptions(parsed, stats).projectionDim, undefined);
    assert.deepEqual(migrateRunConfig({ method: 'simclr', projectionDim: 64 }), { method: 'simclr', projectionDim: 64 });
  });

  test('a method of one\'s own trains with its own recipe: views and optimizer from the recipe, nothing in selfsup touched', async () => {
    const images = await ImageFolder.scan(fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url))).load({ size: 16 });
    const g = new Generator(0);
    const backbone = resnet18({ stem: 'cifar', width: 0.125, generator: g });
    const method = new SpectralContrastive(backbone, backbone.featureDim, g);
    const out = join(dir, 'spectral');
    const summary = await pretrain(method, images, buildViews(SPECTRAL_RECIPE.views, { size: 16 }), {
      out, epochs: 2, batchSize: 16, workers: 0, log: () => undefined, ...recipeTraining(SPECTRAL_RECIPE, { epochs: 2, batchSize: 16 }),
    });
    const stepsPerEpoch = Math.floor(images.length / 16);
    assert.equal(summary.steps, 2 * stepsPerEpoch);
    assert.ok(Number.isFinite(summary.lastLoss) && summary.lastLoss < 0, `the spectral loss goes below 0 once the pairs align: ${summary.lastLoss}`);
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lr: number });
    // one warm-up epoch to 0.2 x 16 / 256 = 0.0125, then the cosine down
    assert.ok(Math.abs(Math.max(...lrs.map((l) => l.lr)) - 0.0125) < 0.0125 / stepsPerEpoch + 1e-9);
    assert.ok(lrs[0].lr < lrs[stepsPerEpoch - 1].lr && lrs.at(-1)!.lr < lrs[stepsPerEpoch].lr);
    method.dispose();
  });

  test('selfsup recipes lists every method; show refuses a backbone the method does not train', () => {
    const list = spawnSync(process.execPath, [cli, 'recipes'], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    for (const m of METHOD_NAMES) assert.match(list.stdout, new RegExp(`^${m} `, 'm'));
    assert.match(list.stdout, /^dino\s+vit\s+adamw\s+0\.0005\s+0\.04 -> 0\.4\s+3/m);
    const shown = spawnSync(process.execPath, [cli, 'recipes', 'show', 'mae'], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^betas: \[ 0\.9, 0\.95 \]$/m);
    const refused = spawnSync(process.execPath, [cli, 'recipes', 'show', 'mae', '--backbone', 'resnet18'], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--backbone resnet18: method 'mae' has no recipe for a ResNet/);
  });

  test('a whole-run recipe (--recipe cpu-30min): its keys, under a file\'s and the flags\'; shown as a config that reads back the same', () => {
    const recipe = BUDGET_RECIPES['cpu-30min'].config;
    const config = readPretrainConfig({ recipe: 'cpu-30min', ...place });
    for (const [k, v] of Object.entries(recipe)) assert.deepEqual(config[k as keyof typeof config], v, k);
    assert.equal(readPretrainConfig({ recipe: 'cpu-30min', ...place, minutes: '5', width: '0.5' }).minutes, 5);
    assert.equal(fromFile('recipe: cpu-30min\nbatchSize: 128\n', { 'batch-size': '64' }).batchSize, 64, 'flags over the file');
    assert.equal(fromFile('recipe: cpu-30min\nbatchSize: 128\n').batchSize, 128, 'the file over the recipe');
    assert.throws(() => readPretrainConfig({ recipe: 'constructor', ...place }), /recipe 'constructor': unknown \(expected one of cpu-30min\)/);
    const shown = spawnSync(process.execPath, [cli, 'recipes', 'show', 'cpu-30min'], { encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(fromFile(shown.stdout), config);
    assert.match(spawnSync(process.execPath, [cli, 'recipes'], { encoding: 'utf8' }).stdout, /^ {2}cpu-30min {2}simclr, resnet18, 30 minutes: /m);
    // bad values refused before any work, naming the key
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, minutes: '0' }), /minutes: Too small: expected number to be >0/);
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, depth: '4' }), /depth: depth is the number of ViT blocks/);
    assert.equal(readPretrainConfig({ method: 'mae', backbone: 'vit_tiny', ...place, depth: '4' }).depth, 4);
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, backbone: 'vit_tiny', 'start-size': '16' }), /startSize: progressive resizing \(startSize\) works with ResNet backbones/);
    // a recipe's resizing is refused for a ViT until turned off, and off it asks for no schedule
    assert.throws(() => readPretrainConfig({ recipe: 'cpu-30min', ...place, backbone: 'vit_tiny', 'patch-size': '4' }), /startSize 0 turns off a recipe's/);
    const vit = readPretrainConfig({ recipe: 'cpu-30min', ...place, backbone: 'vit_tiny', 'patch-size': '4', 'start-size': '0' });
    assert.equal(resolutionSchedule(vit), undefined);
    assert.deepEqual(resolutionSchedule(readPretrainConfig({ recipe: 'cpu-30min', ...place })), { startSize: 12, from: 0.5, until: 0.95 });
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, size: '32', 'start-size': '32' }), /startSize: startSize is where progressive resizing starts: below size/);
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, 'resize-until': '0.5' }), /startSize: resizeFrom and resizeUntil shape progressive resizing: set startSize too/);
    assert.throws(() => readPretrainConfig({ method: 'simclr', ...place, 'start-size': '16', 'resize-from': '0.6', 'resize-until': '0.5' }), /resizeUntil: resizeFrom must be below resizeUntil/);
  });

  test('selfsup pretrain --minutes: trains for the budget, its checkpoint keeps the time trained; --start-size grows the views over it', () => {
    const out = join(dir, 'minutes');
    const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
    const run = spawnSync(process.execPath, [cli, 'pretrain', '--recipe', 'cpu-30min', '--data', mini, '--out', out, '--minutes', '0.03',
      '--batch-size', '16', '--width', '0.125', '--hidden-dim', '32', '--projection-dim', '16', '--workers', '0', '--start-size', '24'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /SimCLR: 2s of training of 16 images/);
    const trained = readCheckpointMetadata(join(out, 'checkpoint.safetensors')).extra.trainedSeconds as number;
    assert.ok(trained >= 1.8 && trained < 4, `trained ${trained} s of a 1.8 s budget`);
    // progressive resizing over the budget (the recipe's: growing from half of it to 0.95): 24 px, then 28, then 32 (its size)
    const sizes = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { view_size: number }).view_size);
    assert.equal(sizes[0], 24);
    assert.equal(sizes.at(-1), 32);
    assert.ok(sizes.includes(28) && sizes.every((s, i) => i === 0 || s >= sizes[i - 1]), `sizes ${[...new Set(sizes)].join(', ')}`);
  });
});
