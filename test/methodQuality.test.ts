// Quality on real images (the demo's CIFAR-10 subset): a short pretraining of each method whose
// short-budget recipe is known to work lowers its loss and beats the random encoder's kNN accuracy.
// (BYOL and SimSiam do not beat a random encoder within such a budget here; see the README.)
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ImageFolder } from '../src/data/index.js';
import { backboneKnn } from '../src/eval/index.js';
import { type MethodName, buildMethod } from '../src/methods/index.js';
import { resnet18 } from '../src/models/index.js';
import { Generator } from '../src/tensor/index.js';
import { type OptimizerConfig, pretrain } from '../src/train/index.js';
import { methodViews } from '../src/transforms/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-quality-'));
const demo = fileURLToPath(new URL('../../data/cifar10-demo', import.meta.url));

describe('methods on real images', async () => {
  const train = await ImageFolder.scan(join(demo, 'train')).load();
  const test_ = await ImageFolder.scan(join(demo, 'test')).load();
  const view = methodViews('eval', { size: 32 }).views[0];
  const top1 = (backbone: ReturnType<typeof resnet18>) => backboneKnn(backbone, train, test_, view).top1;

  const recipes: [MethodName, number, OptimizerConfig][] = [
    ['moco_v2', 60, { name: 'sgd', lr: 0.1, weightDecay: 5e-4, warmupEpochs: 0.5 }],
    ['barlow_twins', 60, { name: 'lars', lr: 0.3, weightDecay: 1e-6, warmupEpochs: 0.5 }],
    ['vicreg', 80, { name: 'lars', lr: 0.3, weightDecay: 1e-6, warmupEpochs: 0.5 }],
    ['moco_v3', 200, { name: 'sgd', lr: 0.1, weightDecay: 5e-4, warmupEpochs: 0.5 }],
  ];
  for (const [name, steps, optimizer] of recipes) {
    test(`${name}: the loss falls and kNN beats the random encoder`, async () => {
      const generator = new Generator(0);
      const backbone = resnet18({ stem: 'cifar', width: 0.25, generator });
      const method = buildMethod(name, backbone, backbone.featureDim, { hiddenDim: 512, queueSize: 1024 }, generator);
      const random = top1(backbone);
      const summary = await pretrain(method, train, methodViews(name, { size: 32 }), {
        out: join(dir, name), epochs: 100, maxSteps: steps, batchSize: 128,
        optimizer, diagnosticsEvery: 1000, log: () => undefined,
      });
      const trained = top1(backbone);
      if (name === 'moco_v2') {
        // MoCo's loss starts low against a random queue and rises as real keys fill it: it must end
        // below chance, log(1 + K) for a positive among K = 1024 negatives.
        assert.ok(summary.lastLoss < Math.log(1 + 1024), `${name}: final loss ${summary.lastLoss} vs chance ${Math.log(1025)}`);
      } else {
        assert.ok(summary.lastLoss < summary.firstLoss, `${name}: loss ${summary.firstLoss} -> ${summary.lastLoss}`);
      }
      assert.ok(trained > random + 0.015, `${name}: kNN top-1 random ${random}, trained ${trained}`);
      method.dispose();
    });
  }
});
