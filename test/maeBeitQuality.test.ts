// Quality on real images (the demo's CIFAR-10 subset) of MAE and BEiT on a small ViT/4: the loss falls
// and the features beat the random ViT's (a linear probe for MAE, whose features are made for it; kNN
// for BEiT). Calibrated at one engine thread, as the suite runs this file.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { backboneKnn } from '../src/eval/index.js';
import { BEiT, MAE, methodViews } from '../src/methods/index.js';
import { type VisionTransformer, vitTiny } from '../src/models/index.js';
import { Generator } from '../src/tensor/index.js';
import { type OptimizerConfig, pretrain } from '../src/train/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../src/transforms/index.js';
import { KMeansTokenizer, samplePatches } from '../src/tokenizers/index.js';
import { linearTop1 } from './helpers/qualityRecipes.js';
import { QUALITY_PRECISION as precision, demoImages } from './helpers/qualityTests.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-quality-masked-'));

describe('masked image modelling on real images: MAE, BEiT', async () => {
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
