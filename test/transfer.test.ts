// Transfer against supervised pretraining: the supervised baseline method, FGSM / PGD attacks,
// COCO-style detection metrics worked out by hand, CenterNet targets and decoding, the COCO and VOC
// readers, and a CenterNet head that learns to find the synthetic shapes on a frozen random encoder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { type LabelledBox, gatherImages, openImages, readCocoDetection, readVocDetection, syntheticDetection } from '../src/data/index.js';
import {
  type Detection, adversarialRobustness, averagePrecision, boxIoU, centerNetTargets, decodeCenterNet, detectionMetrics, fgsm, gaussianRadius, pgd, trainDetector,
} from '../src/eval/index.js';
import { centerNetFocalLoss } from '../src/losses/index.js';
import { SupervisedPretraining } from '../src/methods/index.js';
import { CenterNetHead, resnet18 } from '../src/models/index.js';
import { Linear } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator, type Tensor, crossEntropy, noGrad, randn, tensor, tidy, where } from '../src/tensor/index.js';
import { applyView } from '../src/transforms/index.js';
import { assertClose } from './helpers/gradcheck.js';

const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-transfer-'));
const NORMALIZE = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

describe('supervised pretraining', () => {
  test('cross-entropy over every view with the image\'s label; refuses unlabeled batches', () => {
    const method = new SupervisedPretraining(resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(0) }), { featureDim: 64, numClasses: 3, generator: new Generator(1) });
    method.eval(); // fixed batch norm, so the views can be classified one at a time below
    const views = [randn([4, 3, 16, 16], { generator: new Generator(2) }), randn([4, 3, 16, 16], { generator: new Generator(3) })];
    const labels = tensor([0, 2, 1, 2], { dtype: 'int64' });
    const { loss } = method.step(views, null, labels);
    const separately = tidy(() => views.map((v) => crossEntropy(method.classifier.forward(method.backbone.forward(v)), labels).item()));
    assertClose([loss.item()], [(separately[0] + separately[1]) / 2], 1e-5);
    loss.backward();
    assert.ok(method.classifier.weight.grad!.abs().sum().item() > 0 && method.backbone.parameters()[0].grad!.abs().sum().item() > 0);
    assert.throws(() => method.step(views, null, null), /supervised pretraining needs labels/);
    method.dispose();
  });
  test('on real images the loss falls and the training accuracy rises', async () => {
    const images = await openImages(mini, { size: 32 });
    const method = new SupervisedPretraining(resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(4) }), { featureDim: 128, numClasses: 10, generator: new Generator(5) });
    const optimizer = new SGD(method.parameters(), { lr: 0.05, momentum: 0.9 });
    const ids = Array.from({ length: 40 }, (_, i) => i);
    const x = tidy(() => applyView(gatherImages(images, ids), { size: 32, crop: 'resize', normalize: NORMALIZE }));
    const labels = images.allLabels();
    const losses: number[] = [];
    let accuracy = 0;
    for (let step = 0; step < 25; step++) {
      tidy(() => {
        const out = method.step([x], null, labels);
        losses.push(out.loss.item());
        accuracy = out.metrics!['supervised/train_top1'];
        out.loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
      });
    }
    assert.ok(losses[0] > 2 && losses[24] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[24]}`);
    assert.ok(accuracy > 0.8, `training accuracy ${accuracy}`);
    method.dispose();
  });
});

describe('adversarial attacks', () => {
  // a linear classifier on 4 "pixels": logits = W x + b
  const fc = new Linear(4, 3, { generator: new Generator(6) });
  const classify = (x: Tensor) => fc.forward(x.flatten(1));
  const pixels = tensor([[0.2, 0.5, 0.9, 0.0], [1.0, 0.3, 0.6, 0.4]]).view(2, 1, 2, 2);
  const labels = tensor([1, 2], { dtype: 'int64' });
  test('FGSM takes one step of epsilon along the sign of the loss gradient, by hand', () => {
    const epsilon = 0.1;
    const out = fgsm(classify, pixels, labels, epsilon);
    // d CE / d x = W^T (softmax(W x + b) - onehot(y)), per image
    const expected = tidy(() => noGrad(() => {
      const p = classify(pixels).softmax(1);
      const onehot = tensor([[0, 1, 0], [0, 0, 1]]);
      const grad = p.sub(onehot).matmul(fc.weight); // [2, 4]
      return pixels.flatten(1).add(grad.sign().mul(epsilon)).clamp(0, 1).view(2, 1, 2, 2);
    }));
    assertClose(Array.from(out.data() as Float32Array), Array.from(expected.data() as Float32Array), 1e-6);
    assert.ok(out.flatten().toArray().toString() !== pixels.flatten().toArray().toString());
    assert.ok(fgsm(classify, pixels, labels, 0).equal(pixels), 'epsilon 0 changes nothing');
  });
  test('PGD stays in the epsilon ball and [0, 1], raises the loss at least as much as FGSM, and epsilon 0 changes nothing', () => {
    const epsilon = 0.2;
    const attacked = pgd(classify, pixels, labels, { epsilon, steps: 10, generator: new Generator(7) });
    const delta = attacked.sub(pixels).abs().max().item();
    assert.ok(delta <= epsilon + 1e-6, `|delta| = ${delta}`);
    assert.ok(attacked.min().item() >= 0 && attacked.max().item() <= 1);
    const loss = (x: Tensor) => tidy(() => noGrad(() => crossEntropy(classify(x), labels).item()));
    assert.ok(loss(attacked) >= loss(fgsm(classify, pixels, labels, epsilon)) - 1e-6);
    assert.ok(loss(attacked) > loss(pixels));
    assert.ok(pgd(classify, pixels, labels, { epsilon: 0 }).equal(pixels));
  });
  test('a classifier of real images loses accuracy under attack; at epsilon 0 it keeps its clean accuracy', async () => {
    const images = await openImages(mini, { size: 32 });
    const net = resnet18({ stem: 'cifar', width: 0.125, numClasses: 10, generator: new Generator(8) });
    const optimizer = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = tidy(() => applyView(gatherImages(images, Array.from({ length: 40 }, (_, i) => i)), { size: 32, crop: 'resize' }));
    const labels = images.allLabels();
    for (let step = 0; step < 30; step++) tidy(() => { crossEntropy(net.forward(x), labels).backward(); optimizer.step(); optimizer.zeroGrad(); });
    net.eval();
    const report = adversarialRobustness((p) => net.forward(p), images, { size: 32, crop: 'resize' }, { epsilons: [0, 2 / 255, 8 / 255], steps: 5 });
    assert.ok(report.clean > 0.5, `clean ${report.clean}`);
    assert.equal(report.accuracy.fgsm[0], report.clean);
    assert.equal(report.accuracy.pgd[0], report.clean);
    assert.ok(report.accuracy.fgsm[2] < report.clean - 0.2 && report.accuracy.pgd[2] <= report.accuracy.fgsm[2], JSON.stringify(report.accuracy));
    assert.ok(report.accuracy.pgd[1] <= report.accuracy.pgd[0] && report.accuracy.pgd[2] <= report.accuracy.pgd[1]);
    net.dispose();
  });
});

describe('detection metrics (COCO-style)', () => {
  test('IoU by hand', () => {
    assert.equal(boxIoU([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
    assert.equal(boxIoU([0, 0, 10, 10], [10, 0, 20, 10]), 0);
    assert.equal(boxIoU([2, 2, 4, 4], [0, 0, 10, 10]), 4 / 100);
  });
  test('AP with 101-point interpolation: two truths, a hit, a miss and a hit', () => {
    const truths = [[[0, 0, 10, 10], [20, 20, 30, 30]] as [number, number, number, number][]];
    const detections: Detection[][] = [[
      { box: [0, 0, 10, 10], label: 0, score: 0.9 },
      { box: [50, 50, 60, 60], label: 0, score: 0.8 },
      { box: [20, 20, 30, 30], label: 0, score: 0.7 },
    ]];
    // recall 0.5, 0.5, 1; precision 1, 1/2, 2/3 -> monotone 1, 2/3, 2/3; recall points 0..0.5 (51) at 1, 0.51..1 (50) at 2/3
    assertClose([averagePrecision(detections, truths, 0.5)], [(51 + 50 * (2 / 3)) / 101], 1e-12);
    // the miss scored first: precision 0, 1/2, 2/3 -> 2/3, 2/3, 2/3
    const missFirst: Detection[][] = [[{ ...detections[0][1], score: 0.95 }, detections[0][0], detections[0][2]]];
    assertClose([averagePrecision(missFirst, truths, 0.5)], [2 / 3], 1e-12);
    assert.ok(Number.isNaN(averagePrecision(detections, [[]], 0.5)), 'no ground truth: undefined');
  });
  test('mAP over IoU 0.5:0.95, classes without ground truth left out, one truth matched once, maxDets per image and class', () => {
    // IoU 0.6: matched at thresholds 0.5, 0.55, 0.6 -> AP 1, 1, 1, then 0 x 7
    const truth: LabelledBox[][] = [[{ box: [0, 0, 10, 10], label: 0 }]];
    assertClose([boxIoU([2.5, 0, 12.5, 10], [0, 0, 10, 10])], [75 / 125], 1e-12); // shifted by a quarter: overlap 75, union 125
    const m = detectionMetrics([[{ box: [2.5, 0, 12.5, 10], label: 0, score: 0.9 }, { box: [0, 0, 5, 5], label: 2, score: 0.8 }]], truth, { numClasses: 3 });
    assertClose([m.mAP50, m.mAP75, m.mAP], [1, 0, 0.3], 1e-12);
    assert.ok(Number.isNaN(m.ap50PerClass[1]) && Number.isNaN(m.ap50PerClass[2]), 'classes without truth are left out');
    // a duplicate of the hit is a false positive at every threshold
    const dup = detectionMetrics([[{ box: [0, 0, 10, 10], label: 0, score: 0.9 }, { box: [0, 0, 10, 10], label: 0, score: 0.8 }]], truth, { numClasses: 1 });
    assert.equal(dup.mAP, 1, 'a false positive after full recall does not lower AP');
    const dupFirst = detectionMetrics([[{ box: [50, 50, 60, 60], label: 0, score: 0.95 }, { box: [0, 0, 10, 10], label: 0, score: 0.9 }]], truth, { numClasses: 1 });
    assertClose([dupFirst.mAP50], [0.5], 1e-12);
    const capped = detectionMetrics([[{ box: [50, 50, 60, 60], label: 0, score: 0.95 }, { box: [0, 0, 10, 10], label: 0, score: 0.9 }]], truth, { numClasses: 1, maxDetections: 1 });
    assert.equal(capped.mAP50, 0, 'only the best detection of the image counts');
  });
});

describe('CenterNet', () => {
  test('targets: Gaussians at centre cells, sizes and offsets in cells; perfect outputs decode to the true boxes (mAP 1)', () => {
    const boxes: LabelledBox[][] = [[{ box: [4, 8, 20, 24], label: 1 }, { box: [40, 40, 60, 50], label: 0 }], [{ box: [30, 2, 34, 6], label: 1 }, { box: [0, 16, 48, 64], label: 0 }]];
    const t = centerNetTargets(boxes, { numClasses: 2, stride: 8, height: 8, width: 8 });
    // box 1: centre (12, 16) px = (1.5, 2) cells -> cell (1, 2), offset (0.5, 0), size (2, 2)
    const at = (x: Tensor, ...i: number[]) => (x.toArray() as number[][][][])[i[0]][i[1]][i[2]][i[3]];
    assert.equal(at(t.heatmap, 0, 1, 2, 1), 1);
    assertClose([at(t.size, 0, 0, 2, 1), at(t.size, 0, 1, 2, 1), at(t.offset, 0, 0, 2, 1), at(t.offset, 0, 1, 2, 1)], [2, 2, 0.5, 0], 1e-6);
    assert.equal(t.mask.sum().item(), 4);
    assert.equal(t.heatmap.eq(1).sum().item(), 4);
    // a small box (2.5 x 1.25 cells) has radius 0: its centre cell alone
    assert.equal(Math.floor(gaussianRadius(2, 3)), 0);
    assert.equal(at(t.heatmap, 0, 0, 5, 7), 0);
    // the 6 x 6-cell box: radius floor(1.64) = 1 around cell (3, 5), sigma 1/2 -> exp(-d^2 / 0.5)
    assertClose([gaussianRadius(6, 6)], [1.6399203184], 1e-9);
    assertClose([at(t.heatmap, 1, 0, 5, 3), at(t.heatmap, 1, 0, 5, 4), at(t.heatmap, 1, 0, 6, 4), at(t.heatmap, 1, 0, 5, 5)], [1, Math.exp(-2), Math.exp(-4), 0], 1e-6);
    const logits = where(t.heatmap.eq(1), tensor(8), tensor(-8));
    const decoded = decodeCenterNet({ heatmap: logits, size: t.size, offset: t.offset }, { stride: 8, minScore: 0.5 });
    assert.deepEqual(decoded.map((d) => d.length), [2, 2]);
    for (const [i, list] of decoded.entries()) for (const d of list) assert.ok(boxes[i].some((b) => b.label === d.label && boxIoU(b.box, d.box) > 0.9999), JSON.stringify(d));
    const m = detectionMetrics(decoded, boxes, { numClasses: 2 });
    assertClose([m.mAP50, m.mAP], [1, 1], 1e-9);
  });
  test('the focal loss by hand: positives, down-weighted negatives, divided by the number of centres', () => {
    const logits = tensor([0, 1, -1, 2]).view(1, 1, 2, 2);
    const target = tensor([1, 0.5, 0, 0]).view(1, 1, 2, 2);
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const p = [0, 1, -1, 2].map(sig);
    const expected = -((1 - p[0]) ** 2 * Math.log(p[0]) + 0.5 ** 4 * p[1] ** 2 * Math.log(1 - p[1]) + p[2] ** 2 * Math.log(1 - p[2]) + p[3] ** 2 * Math.log(1 - p[3]));
    assertClose([centerNetFocalLoss(logits, target).item()], [expected], 1e-6);
  });
  test('a head on a frozen random ResNet learns to find the synthetic shapes (mAP@0.5 well above an untrained head\'s)', async () => {
    const train = syntheticDetection(240, { size: 64, seed: 0 });
    const test = syntheticDetection(80, { size: 64, seed: 1 });
    assert.deepEqual(syntheticDetection(5, { size: 64, seed: 1 }).boxes, test.boxes.slice(0, 5), 'deterministic');
    for (const boxes of train.boxes) for (let i = 0; i < boxes.length; i++) for (let j = 0; j < i; j++) assert.equal(boxIoU(boxes[i].box, boxes[j].box), 0);
    const backbone = resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(9) });
    const view = { size: 64, crop: 'resize' as const, normalize: NORMALIZE };
    const result = await trainDetector(backbone, train, test, { view, epochs: 15, seed: 0 });
    const untrained = tidy(() => noGrad(() => {
      const head = new CenterNetHead(128, 3, { generator: new Generator(10) }).eval();
      const maps = applyView(test.images.batch(Array.from({ length: 80 }, (_, i) => i)), view);
      return detectionMetrics(decodeCenterNet(head.parts(backbone.eval().forwardMap(maps)), { stride: 8 }), test.boxes, { numClasses: 3 });
    }));
    assert.equal(result.stride, 8);
    assert.ok(result.losses[1] < 0.3 * result.losses[0], `loss ${result.losses}`);
    assert.ok(result.mAP50 > 0.5 && result.mAP50 > 5 * untrained.mAP50, `mAP@0.5 ${result.mAP50} vs untrained ${untrained.mAP50}`);
    assert.ok(result.mAP > 0.15 && result.mAP < result.mAP50, `mAP ${result.mAP}`);
    result.head.dispose();
    backbone.dispose();
  });
});

describe('detection data readers', () => {
  const writeImage = (path: string, width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toFile(path);
  test('COCO JSON: [x, y, w, h] boxes scaled with the image, crowd boxes left out, categories in id order', async () => {
    mkdirSync(join(dir, 'coco'), { recursive: true });
    await writeImage(join(dir, 'coco', 'a.png'), 80, 40);
    await writeImage(join(dir, 'coco', 'b.png'), 40, 40);
    const json = join(dir, 'coco', 'instances.json');
    writeFileSync(json, JSON.stringify({
      images: [{ id: 7, file_name: 'a.png', width: 80, height: 40 }, { id: 9, file_name: 'b.png', width: 40, height: 40 }],
      categories: [{ id: 3, name: 'cat' }, { id: 1, name: 'dog' }],
      annotations: [
        { image_id: 7, category_id: 3, bbox: [8, 4, 40, 20], iscrowd: 0 },
        { image_id: 7, category_id: 1, bbox: [0, 0, 80, 40], iscrowd: 1 },
        { image_id: 9, category_id: 1, bbox: [10, 10, 20, 10] },
      ],
    }));
    const set = await readCocoDetection(json, join(dir, 'coco'), { size: 20 });
    assert.deepEqual(set.classes, ['dog', 'cat']);
    assert.deepEqual(set.boxes, [[{ box: [2, 2, 12, 12], label: 1 }], [{ box: [5, 5, 15, 10], label: 0 }]]);
    assert.deepEqual([set.images.length, set.images.height, set.images.width], [2, 20, 20]);
    writeFileSync(join(dir, 'coco', 'bad.json'), JSON.stringify({ images: [{ id: 1, file_name: 'a.png' }], categories: [], annotations: [{ image_id: 1, category_id: 5, bbox: [0, 0, 1, 1] }] }));
    await assert.rejects(readCocoDetection(join(dir, 'coco', 'bad.json'), join(dir, 'coco'), { size: 20 }), /annotation 0 has an unknown image_id \/ category_id/);
    await assert.rejects(readCocoDetection(join(dir, 'coco', 'a.png'), dir, { size: 20 }), /not a readable COCO JSON file/);
  });
  test('Pascal VOC XML: 1-based pixel boxes, difficult objects left out, classes sorted', async () => {
    mkdirSync(join(dir, 'voc', 'Annotations'), { recursive: true });
    mkdirSync(join(dir, 'voc', 'JPEGImages'), { recursive: true });
    await writeImage(join(dir, 'voc', 'JPEGImages', 'x.png'), 100, 50);
    writeFileSync(join(dir, 'voc', 'Annotations', 'x.xml'), `<annotation><filename>x.png</filename><size><width>100</width><height>50</height></size>
      <object><name>person</name><difficult>0</difficult><bndbox><xmin>11</xmin><ymin>6</ymin><xmax>60</xmax><ymax>30</ymax></bndbox></object>
      <object><name>car</name><difficult>1</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
      <object><name>bird</name><bndbox><xmin>51</xmin><ymin>26</ymin><xmax>100</xmax><ymax>50</ymax></bndbox></object></annotation>`);
    const set = await readVocDetection(join(dir, 'voc'), { size: 50 });
    assert.deepEqual(set.classes, ['bird', 'person']);
    assert.deepEqual(set.boxes, [[{ box: [5, 5, 30, 30], label: 1 }, { box: [25, 25, 50, 50], label: 0 }]]);
    await assert.rejects(readVocDetection(join(dir, 'nowhere'), { size: 50 }), /expected a Pascal VOC folder with Annotations\/ and JPEGImages\//);
  });
});

describe('selfsup pretrain --method supervised, eval adversarial / detection, compare', () => {
  const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const selfsup = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  test('the supervised baseline is a run like any other: evaluated under attack, for detection, and compared', async () => {
    const run = join(dir, 'supervised');
    const unlabeled = join(dir, 'unlabeled');
    mkdirSync(unlabeled, { recursive: true });
    await sharp({ create: { width: 32, height: 32, channels: 3, background: 'red' } }).png().toFile(join(unlabeled, 'a.png'));
    const refused = selfsup('pretrain', '--method', 'supervised', '--data', unlabeled, '--out', join(dir, 'never'));
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--method supervised needs labelled data: .*unlabeled has no labels/);
    const pre = selfsup('pretrain', '--method', 'supervised', '--data', mini, '--out', run, '--epochs', '2', '--batch-size', '20', '--width', '0.25');
    assert.equal(pre.status, 0, pre.stderr);
    assert.match(pre.stdout, /pretrained supervised \(resnet18\) for 4 steps/);
    assert.match(readFileSync(join(run, 'metrics.jsonl'), 'utf8'), /"supervised\/train_top1":/);
    const checkpoint = join(run, 'checkpoint.safetensors');
    const adversarial = selfsup('eval', 'adversarial', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--epochs', '20',
      '--epsilons', '0,8/255', '--steps', '3', '--out', join(run, 'adversarial.json'));
    assert.equal(adversarial.status, 0, adversarial.stderr);
    const a = JSON.parse(readFileSync(join(run, 'adversarial.json'), 'utf8')) as { clean: number; cleanTop1: number; epsilons: number[]; accuracy: Record<string, number[]> };
    assertClose(a.epsilons, [0, 8 / 255], 1e-12);
    assert.ok(Math.abs(a.clean - a.cleanTop1) <= 1 / 40 + 1e-9, `the clean pass ${a.clean} is the probe's accuracy ${a.cleanTop1}`);
    assert.deepEqual([a.accuracy.fgsm[0], a.accuracy.pgd[0]], [a.clean, a.clean]);
    assert.ok(a.accuracy.pgd[1] < a.clean, JSON.stringify(a));
    const badEps = selfsup('eval', 'adversarial', '--checkpoint', checkpoint, '--train', mini, '--test', mini, '--epsilons', '8/255,x');
    assert.equal(badEps.status, 2);
    assert.match(badEps.stderr, /--epsilons 8\/255,x: expected budgets in \[0, 1\]/);
    const picture = join(dir, 'detections.png');
    const detection = selfsup('eval', 'detection', '--checkpoint', checkpoint, '--data', 'synthetic', '--count', '60', '--epochs', '3',
      '--picture', picture, '--out', join(run, 'detection.json'));
    assert.equal(detection.status, 0, detection.stderr);
    assert.match(detection.stdout, /detection \(CenterNet head, frozen backbone, stride 8\): mAP@0\.5 [\d.]+%, mAP@\[\.5:\.95\] [\d.]+% \(60 training, 20 test images\)/);
    const d = JSON.parse(readFileSync(join(run, 'detection.json'), 'utf8')) as { mAP50: number; mAP: number; ap50PerClass: number[]; size: number };
    assert.ok(d.mAP50 >= d.mAP && d.ap50PerClass.length === 3 && d.size === 64);
    const meta = await sharp(picture).metadata();
    assert.deepEqual([meta.width, meta.height], [4 * 160, 2 * 160]);
    const noTest = selfsup('eval', 'detection', '--checkpoint', checkpoint, '--data', `voc:${join(dir, 'voc')}`);
    assert.equal(noTest.status, 2);
    assert.match(noTest.stderr, /--test is required/);
    const compare = selfsup('compare', run);
    assert.equal(compare.status, 0, compare.stderr);
    assert.match(compare.stdout, /\| method \| supervised \|/);
    assert.match(compare.stdout, /\| PGD eps 8\/255 \(linear probe\) on cifar10-mini \| [\d.]+% \|/);
    assert.match(compare.stdout, /\| detection mAP@0\.5 \(frozen\) \| [\d.]+% \|/);
  });
});
