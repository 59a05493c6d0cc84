// Evaluation: weighted kNN, collapse diagnostics, linear probe, classification report, fine-tuning,
// against hand-computed values and on data whose answer is known.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ImageFolder } from '../src/data/index.js';
import { classificationReport, collapseMetrics, extractFeatures, finetune, knnAccuracy, knnScores, linearProbe } from '../src/eval/index.js';
import { resnet18 } from '../src/models/index.js';
import { Generator, cosineSimilarity, noGrad, ones, randn, tensor, tidy } from '../src/tensor/index.js';
import { methodViews } from '../src/methods/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('weighted kNN', () => {
  test('votes weighted by exp(cosine / T) of the k nearest, as computed by hand', () => {
    // Bank: two of class 0 near (1, 0), one of class 1 at (0, 1). Query (0.6, 0.8) with k = 2.
    const bank = tensor([[1, 0], [2, 0.2], [0, 3]]);
    const labels = tensor([0, 0, 1], { dtype: 'int64' });
    const query = tensor([[0.6, 0.8]]);
    const t = 0.5;
    const cos = (a: number[], b: number[]) => (a[0] * b[0] + a[1] * b[1]) / Math.hypot(...a) / Math.hypot(...b);
    const sims = [[1, 0], [2, 0.2], [0, 3]].map((b) => cos([0.6, 0.8], b));
    // The two nearest: (0, 3) [class 1] and (2, 0.2) [class 0].
    const expected = [Math.exp(sims[1] / t), Math.exp(sims[2] / t)];
    assertClose(knnScores(bank, labels, query, { k: 2, temperature: t }).flatten().toArray() as number[], expected, 1e-5);
    assert.deepEqual(knnAccuracy(bank, labels, query, tensor([1], { dtype: 'int64' }), { k: 2, temperature: t }), { top1: 1, top5: 1 });
  });
  test('separable clusters are classified perfectly; random labels are not', () => {
    const g = new Generator(3);
    const centres = randn([5, 32], { generator: g }).mul(4);
    const points = (n: number) => tidy(() => {
      const labels = tensor(Array.from({ length: n }, (_, i) => i % 5), { dtype: 'int64' });
      return { x: centres.indexSelect(0, labels).add(randn([n, 32], { generator: g })), labels };
    });
    const train = points(200);
    const test = points(100);
    assert.equal(knnAccuracy(train.x, train.labels, test.x, test.labels, { k: 20 }).top1, 1);
    const shuffled = tensor(Array.from({ length: 200 }, (_, i) => (i * 7 + 3) % 5), { dtype: 'int64' });
    assert.ok(knnAccuracy(train.x, shuffled, test.x, test.labels, { k: 20 }).top1 < 0.5);
  });
});

describe('collapse diagnostics', () => {
  test('spread embeddings: std near 1/sqrt(d), high effective rank; collapsed ones flagged', () => {
    const z = randn([512, 64], { generator: new Generator(1) });
    const healthy = collapseMetrics(z, z.add(randn([512, 64], { generator: new Generator(2) }).mul(0.1)));
    assert.ok(Math.abs(healthy.std / healthy.stdReference - 1) < 0.05, `std ${healthy.std} vs ${healthy.stdReference}`);
    assert.ok(healthy.effectiveRank > 50, `effective rank ${healthy.effectiveRank}`);
    assert.ok(!healthy.collapsed);
    assert.ok(healthy.alignment! > 0 && healthy.alignment! < 0.05);
    // Every image mapped to (almost) one point: complete collapse.
    const point = ones([512, 64]).add(randn([512, 64], { generator: new Generator(3) }).mul(1e-4));
    const collapsed = collapseMetrics(point);
    assert.ok(collapsed.collapsed);
    assert.match(collapsed.warning!, /representation collapse: per-dimension std/);
    // Dimensional collapse: everything on one line.
    const line = randn([512, 1], { generator: new Generator(4) }).matmul(randn([1, 64], { generator: new Generator(5) }));
    assert.ok(collapseMetrics(line).effectiveRank < 1.5);
  });
  test('alignment and uniformity of two points, by hand', () => {
    // u = (1, 0), (0, 1): one pair at squared distance 2 -> uniformity log(exp(-4)) = -4.
    const m = collapseMetrics(tensor([[1, 0], [0, 1]]), tensor([[1, 0], [0, 1]]));
    assertClose([m.uniformity, m.alignment!], [-4, 0], 1e-5);
  });
});

describe('linear probe and reports', () => {
  test('confusion matrix, per-class and top-k accuracy by hand', () => {
    const scores = tensor([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0, 0.2, 0.8]]);
    const r = classificationReport(scores, tensor([0, 1, 1, 2], { dtype: 'int64' }), 3);
    assert.deepEqual(r.confusion, [[1, 0, 0], [1, 1, 0], [0, 0, 1]]);
    assert.deepEqual(r.perClass, [1, 0.5, 1]);
    assert.equal(r.top1, 0.75);
    assert.equal(r.top5, 1);
  });
  test('learns separable classes; the returned head takes raw features', () => {
    const g = new Generator(7);
    const make = (n: number) => tidy(() => {
      const labels = tensor(Array.from({ length: n }, (_, i) => i % 4), { dtype: 'int64' });
      const centres = tensor([[5, 0, 0], [0, 5, 0], [0, 0, 5], [-5, -5, -5]]);
      return { x: centres.indexSelect(0, labels).add(randn([n, 3], { generator: g })).mul(10).add(3), labels };
    });
    const train = make(400);
    const test = make(200);
    const { report, head, losses } = linearProbe(train.x, train.labels, test.x, test.labels, { numClasses: 4, epochs: 20 });
    assert.ok(report.top1 > 0.97, `top-1 ${report.top1}`);
    assert.ok(losses[1] < losses[0] / 2, `loss ${losses[0]} -> ${losses[1]}`);
    const direct = noGrad(() => head.forward(test.x).argmax(1).eq(test.labels).float().mean().item());
    assertClose([direct], [report.top1], 1e-6);
  });
});

describe('features', () => {
  test('under bfloat16 autocast: float32 features within bf16 rounding of the float32 ones, the mode restored', async () => {
    const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
    const images = await ImageFolder.scan(mini).load();
    const backbone = resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(0) });
    const view = methodViews('eval', { size: 32 }).views[0];
    tidy(() => {
      const exact = extractFeatures(backbone, images, { view });
      const fast = extractFeatures(backbone, images, { view, precision: 'bf16' });
      assert.deepEqual([fast.dtype, ...fast.shape], ['float32', images.length, backbone.featureDim]);
      assert.ok(!fast.equal(exact), 'bf16 arithmetic differs from float32');
      const cos = cosineSimilarity(fast, exact, 1);   // [N]
      assert.ok(cos.min().item() > 0.995, `cosine to the float32 features: min ${cos.min().item()}`);
    });
    assert.equal(backbone.training, true);
  });
});

describe('fine-tuning', () => {
  test('trains backbone and head on real images: loss falls, report covers every class', async () => {
    const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
    const images = await ImageFolder.scan(mini).load();
    const backbone = resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(0) });
    const views = { train: methodViews('supervised', { size: 32 }).views[0], test: methodViews('eval', { size: 32 }).views[0] };
    const firstWeight = () => backbone.parameters()[0].clone();
    const before = firstWeight();
    const { report, losses } = await finetune(backbone, images, images, { numClasses: 10, featureDim: backbone.featureDim, epochs: 6, batchSize: 20, lr: 0.1, backboneLrScale: 1, views, workers: 0 });
    assert.ok(losses[losses.length - 1] < losses[0], `loss ${losses.join(' -> ')}`);
    assert.equal(report.perClass.length, 10);
    assert.equal(report.confusion.flat().reduce((a, b) => a + b, 0), 40);
    const tuned = firstWeight();
    assert.ok(!tuned.equal(before), 'the backbone was trained, not only the head');
    await finetune(backbone, images, images, { numClasses: 10, featureDim: backbone.featureDim, epochs: 1, batchSize: 20, views, workers: 0, freezeBackbone: true });
    assert.ok(firstWeight().equal(tuned), 'a frozen backbone (linear probe) is left as it was');
  });
});
