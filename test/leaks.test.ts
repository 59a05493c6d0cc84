// No tensor left behind: pretraining, the evaluation, detection and export APIs, called as a user would, leave
// the addon's count of live tensors where it was once their results are disposed (optimizer
// state, temporary views and copies included), so a long-lived process (the dashboard, a notebook,
// a service embedding images) does not grow.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openImages, syntheticDetection, syntheticSegmentation } from '../src/data/index.js';
import { adversarialRobustness, extractFeatures, finetune, knnAccuracy, linearProbe, segmentationProbe, trainDetector } from '../src/eval/index.js';
import { backboneToOnnx, describeBackbone, importBackboneWeights, writeBackboneSafetensors } from '../src/export/index.js';
import { readSafetensors, writeNpy } from '../src/io/index.js';
import { resnet18, vitTiny } from '../src/models/index.js';
import { methodViews, SimCLR } from '../src/methods/index.js';
import { Generator, liveTensors } from '../src/tensor/index.js';
import { pretrain } from '../src/train/index.js';

const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-leaks-'));

test('pretraining, probes, fine-tuning, attacks, detection, export and import leave no live tensor behind', async () => {
  const images = await openImages(mini, { size: 32 });
  const view = { size: 32, crop: 'resize' as const };
  const backbone = resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(0) });
  const vit = vitTiny({ imageSize: 32, patchSize: 8, depth: 1, generator: new Generator(1) });
  const segmentation = syntheticSegmentation(8, { size: 32 });
  const simclr = new SimCLR(resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(2) }), { featureDim: 64, hiddenDim: 32, projectionDim: 16, generator: new Generator(2) });
  const [boxesTrain, boxesTest] = [syntheticDetection(12, { size: 64 }), syntheticDetection(4, { size: 64, seed: 1 })];
  const description = describeBackbone({ backboneSpec: { name: 'resnet18', imageSize: 32, width: 0.125 }, size: 32, normalize: { mean: [0, 0, 0], std: [1, 1, 1] }, method: 'test' }, 64, 'test');
  const calls: [string, () => unknown][] = [
    ['features, kNN, linear probe, npy', () => {
      const features = extractFeatures(backbone, images, { view });
      const labels = images.allLabels();
      knnAccuracy(features, labels, features, labels, { k: 5, numClasses: 10 });
      linearProbe(features, labels, features, labels, { numClasses: 10, epochs: 2 }).head.dispose();
      writeNpy(join(dir, 'f.npy'), features);
      features.dispose();
      labels.dispose();
    }],
    ['segmentation probe', () => segmentationProbe(backbone, segmentation, segmentation, { view, numClasses: 4, epochs: 1 }).head.dispose()],
    ['fine-tuning', async () => (await finetune(backbone, images, images, { numClasses: 10, featureDim: 64, epochs: 1, workers: 0, views: { train: view, test: view } })).model.head.dispose()],
    ['FGSM and PGD', () => adversarialRobustness((x) => backbone.forward(x), images, view, { epsilons: [0.01], steps: 2 })],
    ['detection, frozen and fine-tuned', async () => {
      (await trainDetector(backbone, boxesTrain, boxesTest, { view: { size: 64, crop: 'resize' }, epochs: 1 })).head.dispose();
      (await trainDetector(vit, boxesTrain, boxesTest, { view: { size: 64, crop: 'resize' }, epochs: 1, finetune: true })).head.dispose();
    }],
    ['pretraining (SimCLR: loader, optimizer, diagnostics, checkpoint, resume)', async () => {
      const options = { out: join(dir, 'run'), epochs: 1, batchSize: 8, workers: 0, diagnosticsEvery: 1, optimizer: { name: 'sgd' as const, lr: 0.05, weightDecay: 5e-4 }, log: () => undefined };
      await pretrain(simclr, images, methodViews('simclr', { size: 32 }), { ...options, maxSteps: 2 });
      await pretrain(simclr, images, methodViews('simclr', { size: 32 }), { ...options, resume: true });
    }],
    ['ONNX, safetensors export and import', () => {
      backboneToOnnx(backbone.eval(), { imageSize: 32 });
      backboneToOnnx(vit.eval(), { imageSize: 32 });
      writeBackboneSafetensors(join(dir, 'b'), backbone, description);
      const { tensors } = readSafetensors(join(dir, 'b.safetensors'));
      importBackboneWeights(backbone, tensors);
      for (const t of tensors.values()) t.dispose();
    }],
  ];
  // A count can only fall by the garbage collector freeing something unreachable from before (a
  // generator an API made for itself); a leak makes it rise.
  for (const [name, call] of calls) {
    const before = liveTensors();
    await call();
    assert.ok(liveTensors() - before <= 0, `${name}: ${liveTensors() - before} tensors left alive`);
  }
  backbone.dispose();
  vit.dispose();
});
