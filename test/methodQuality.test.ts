// Quality on real images (the demo's CIFAR-10 subset): a short pretraining of each method lowers
// its loss and beats the random encoder's kNN accuracy (recipes calibrated for this budget on two
// seeds; see the table in docs/performance.md).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { type ImageArray, ImageFolder } from '../src/data/index.js';
import { backboneKnn } from '../src/eval/index.js';
import { BEiT, buildMethod, MAE, methodViews } from '../src/methods/index.js';
import { type VisionTransformer, vitTiny } from '../src/models/index.js';
import type { Layer } from '../src/nn/index.js';
import { Generator, resolvePrecision } from '../src/tensor/index.js';
import { type OptimizerConfig, pretrain } from '../src/train/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../src/transforms/index.js';
import { KMeansTokenizer, samplePatches } from '../src/tokenizers/index.js';
import { QUALITY_BASE_OPTIONS, QUALITY_RECIPES, type QualityRecipe, linearTop1, qualityBackbone, qualityRecipeName, qualityTop1 } from './helpers/qualityRecipes.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-quality-'));
const demo = fileURLToPath(new URL('../../data/cifar10-demo', import.meta.url));

// features at the precision the runs train in (bf16 autocast where the CPU has it), as the kNN monitor
const precision = resolvePrecision('auto');

const demoSets = new Map<number, { train: ImageArray; test: ImageArray }>();
/** The demo's images at `size` px, decoded once for all the tests of this file. */
async function demoImages(size: number): Promise<{ train: ImageArray; test: ImageArray }> {
  if (!demoSets.has(size)) {
    demoSets.set(size, { train: await ImageFolder.scan(join(demo, 'train')).load({ size }), test: await ImageFolder.scan(join(demo, 'test')).load({ size }) });
  }
  return demoSets.get(size)!;
}

describe('methods on real images', async () => {
  // The demo's images at 32 px, and the same images at 16 px, where a step costs about a third: each
  // recipe's size and width were chosen on a validation split, 2 seeds (`npm run bench -- quality`).
  const sets = new Map([[16, await demoImages(16)], [32, await demoImages(32)]]);
  const top1 = (r: QualityRecipe, backbone: Layer) =>
    qualityTop1(r, backbone, sets.get(r.size)!.train, sets.get(r.size)!.test, methodViews('eval', { size: r.size }).views[0], precision);
  // Every recipe starts from a random encoder of seed 0: its accuracy is measured once per size, width and evaluation.
  const randomTop1 = new Map<string, number>();

  for (const [name, r] of QUALITY_RECIPES) {
    const probe = r.evaluation === 'linear' ? 'a linear probe' : 'kNN';
    // DINO's and DINOv2's losses sit near log K early on (a uniform teacher): they must stay off a single prototype
    const distilled = name === 'dino' || name === 'dinov2';
    const claim = distilled ? 'the loss stays finite and off a single prototype and kNN beats the random encoder'
      : `the loss falls and ${probe} beats the random encoder`;
    test(`${name} (${qualityRecipeName(r)}): ${claim}`, async () => {
      const generator = new Generator(0);
      const { backbone, featureDim } = qualityBackbone(r, generator);
      const method = buildMethod(name, backbone, featureDim, { ...QUALITY_BASE_OPTIONS, ...r.options }, generator);
      const key = `${qualityRecipeName(r)}/${r.evaluation ?? 'knn'}`;
      if (!randomTop1.has(key)) randomTop1.set(key, top1(r, backbone));
      const random = randomTop1.get(key)!;
      const summary = await pretrain(method, sets.get(r.size)!.train, methodViews(name, { size: r.size, localCrops: r.localCrops }), {
        out: join(dir, name), epochs: 100, maxSteps: r.steps, batchSize: 128, clipGrad: r.clipGrad,
        optimizer: r.optimizer, diagnosticsEvery: 1000, log: () => undefined,
      });
      const trained = top1(r, backbone);
      if (distilled) {
        const prototypes = r.options?.prototypes ?? 1024;
        assert.ok(summary.lastLoss > 0.5 * Math.log(prototypes) && Number.isFinite(summary.lastLoss), `${name}: final loss ${summary.lastLoss}`);
      } else if (name === 'moco_v2') {
        // MoCo's loss starts low against a random queue and rises as real keys fill it: it must end
        // below chance, log(1 + K) for a positive among K = 1024 negatives.
        assert.ok(summary.lastLoss < Math.log(1 + 1024), `${name}: final loss ${summary.lastLoss} vs chance ${Math.log(1025)}`);
      } else {
        assert.ok(summary.lastLoss < summary.firstLoss, `${name}: loss ${summary.firstLoss} -> ${summary.lastLoss}`);
      }
      assert.ok(trained > random + 0.015, `${name}: ${probe} top-1 random ${random}, trained ${trained}`);
      method.dispose();
    });
  }
});

describe('masked image modelling on real images', async () => {
  const { train, test: test_ } = await demoImages(32);
  const view = methodViews('eval', { size: 32 }).views[0];
  const top1 = (backbone: VisionTransformer) => backboneKnn(backbone, train, test_, view, { precision }).top1;
  // ViT-Tiny/4 with fewer blocks keeps the budget of a test.
  const vit = (depth: number, o: { posEmbed?: 'sincos'; layerScale?: number; pool?: 'mean' }) => vitTiny({ imageSize: 32, patchSize: 4, depth, generator: new Generator(0), ...o });
  // MAE's features are made for linear probing (He et al., 2022, Sec. 4.3), not for kNN.
  const linearProbeTop1 = (backbone: VisionTransformer) => linearTop1(backbone, train, test_, view, precision);
  const adamw = (lr: number, beta2: number): OptimizerConfig => ({ name: 'adamw', lr, weightDecay: 0.05, betas: [0.9, beta2], warmupEpochs: 1 });

  test('MAE: the masked-patch loss falls and a linear probe on its cls token beats the random ViT', async () => {
    const backbone = vit(4, { posEmbed: 'sincos' });
    const method = new MAE(backbone, { generator: new Generator(0) });
    const random = linearProbeTop1(backbone);
    const summary = await pretrain(method, train, methodViews('mae', { size: 32 }), {
      out: join(dir, 'mae'), epochs: 100, maxSteps: 150, batchSize: 128, optimizer: adamw(1.5e-3, 0.95), log: () => undefined,
    });
    const trained = linearProbeTop1(backbone);
    assert.ok(summary.lastLoss < 0.5 * summary.firstLoss, `loss ${summary.firstLoss} -> ${summary.lastLoss}`);
    assert.ok(trained > random + 0.02, `linear top-1 random ${random}, trained ${trained}`);
    method.dispose();
  });
  test('BEiT with a k-means tokenizer: the token loss falls and the kNN of its mean-pooled patch tokens beats the random ViT', async () => {
    const normalize = { mean: IMAGENET_MEAN, std: IMAGENET_STD };
    const rows = samplePatches(train, { patchSize: 4, size: 32, normalize, samples: 60_000 });
    const tokenizer = KMeansTokenizer.fit(rows, { patchSize: 4, vocabulary: 512, normalize, iterations: 10, generator: new Generator(0) });
    rows.dispose();
    const backbone = vit(4, { layerScale: 0.1, pool: 'mean' });
    const method = new BEiT(backbone, tokenizer, { viewNormalize: normalize, generator: new Generator(0) });
    const random = top1(backbone);
    const summary = await pretrain(method, train, methodViews('beit', { size: 32, normalize }), {
      out: join(dir, 'beit'), epochs: 100, maxSteps: 100, batchSize: 128, optimizer: adamw(1e-3, 0.999), log: () => undefined,
    });
    const trained = top1(backbone);
    assert.ok(summary.lastLoss < summary.firstLoss - 1, `loss ${summary.firstLoss} -> ${summary.lastLoss}`);
    assert.ok(trained > random + 0.015, `kNN top-1 random ${random}, trained ${trained}`);
    method.dispose();
  });
});
