// Segmentation probe: IoU by hand, the synthetic shapes set, the image + mask folder reader, and a
// probe on a random encoder's dense features that beats predicting background everywhere.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { readSegmentationFolder, syntheticSegmentation } from '../src/data/index.js';
import { segmentationMetrics, segmentationProbe } from '../src/eval/index.js';
import { resnet18 } from '../src/models/index.js';
import { Generator, tensor, zeros } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('segmentation probe', () => {
  test('IoU, mIoU and pixel accuracy as worked out by hand', () => {
    const truth = tensor([0, 0, 1, 1, 2, 2], { dtype: 'int64' });
    const predicted = tensor([0, 1, 1, 1, 2, 0], { dtype: 'int64' });
    const m = segmentationMetrics(predicted, truth, 4);
    // class 0: TP 1, FP 1 (the last), FN 1 -> 1/3; class 1: TP 2, FP 1 -> 2/3; class 2: TP 1, FN 1 -> 1/2; class 3 absent
    assertClose(m.iou.slice(0, 3), [1 / 3, 2 / 3, 1 / 2], 1e-6);
    assert.ok(Number.isNaN(m.iou[3]));
    assertClose([m.mIoU, m.pixelAccuracy], [(1 / 3 + 2 / 3 + 1 / 2) / 3, 4 / 6], 1e-6);
  });

  test('the synthetic set: deterministic, every shape class in its colour family', () => {
    const a = syntheticSegmentation(20, { size: 32, seed: 3 });
    assert.deepEqual(syntheticSegmentation(20, { size: 32, seed: 3 }).masks, a.masks);
    assert.notDeepEqual(syntheticSegmentation(20, { size: 32, seed: 4 }).masks, a.masks);
    const plane = 32 * 32;
    const meanColour = (cls: number) => {
      const sums = [0, 0, 0];
      let n = 0;
      a.masks.forEach((c, i) => {
        if (c !== cls) return;
        const [image, p] = [Math.floor(i / plane), i % plane];
        for (let ch = 0; ch < 3; ch++) sums[ch] += a.images.pixels[image * 3 * plane + ch * plane + p];
        n++;
      });
      return sums.map((s) => s / n);
    };
    const [disc, square, triangle] = [meanColour(1), meanColour(2), meanColour(3)];
    assert.ok(disc[0] > disc[1] && disc[0] > disc[2] && square[1] > square[0] && triangle[2] > triangle[0], 'red discs, green squares, blue triangles');
    const background = a.masks.filter((c) => c === 0).length / a.masks.length;
    assert.ok(background > 0.5 && background < 0.95, `background share ${background}`);
  });

  test('image + mask folders are read and resized (masks by nearest); a missing mask is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-seg-'));
    mkdirSync(join(dir, 'images'));
    mkdirSync(join(dir, 'masks'));
    for (const name of ['a', 'b']) {
      await sharp(Buffer.alloc(16 * 16 * 3, name === 'a' ? 200 : 50), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(join(dir, 'images', `${name}.png`));
      const mask = Buffer.alloc(16 * 16, 0);
      for (let y = 0; y < 16; y++) for (let x = 8; x < 16; x++) mask[y * 16 + x] = name === 'a' ? 1 : 2;
      await sharp(mask, { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(join(dir, 'masks', `${name}.png`));
    }
    const set = await readSegmentationFolder(dir, { size: 8 });
    assert.equal(set.images.length, 2);
    assert.deepEqual(set.classes, ['class 0', 'class 1', 'class 2']);
    assert.deepEqual(Array.from(set.masks.subarray(0, 8)), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(set.masks.subarray(64, 72)), [0, 0, 0, 0, 2, 2, 2, 2]);
    assert.equal(set.images.pixels[0], 200);
    await sharp(Buffer.alloc(16 * 16 * 3, 9), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(join(dir, 'images', 'c.png'));
    await assert.rejects(readSegmentationFolder(dir, { size: 8 }), /masks\/c\.png: the mask of c\.png is missing/);
    await assert.rejects(readSegmentationFolder(join(dir, 'absent'), { size: 8 }), /expected a folder with images\/ and masks\//);
  });

  test("a linear probe on a random ResNet's feature map segments the shapes better than all-background", () => {
    const train = syntheticSegmentation(300, { size: 32, seed: 0 });
    const test = syntheticSegmentation(100, { size: 32, seed: 1 });
    const backbone = resnet18({ stem: 'cifar', width: 0.25, generator: new Generator(0) });
    const view = { size: 32, crop: 'resize' as const, normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } };
    const result = segmentationProbe(backbone, train, test, { view, epochs: 15 });
    const truth = tensor(test.masks, { shape: [100, 32, 32], dtype: 'uint8' });
    const background = segmentationMetrics(zeros([100, 32, 32], { dtype: 'uint8' }), truth, 4);
    assert.ok(result.losses[1] < result.losses[0], `loss ${result.losses[0]} -> ${result.losses[1]}`);
    assert.ok(result.mIoU > background.mIoU + 0.08, `mIoU ${result.mIoU} vs all-background ${background.mIoU}`);
    assert.ok(result.iou.slice(1).every((iou) => iou > 0.05), `every shape class found: ${result.iou}`);
    assert.equal(result.predictions.length, 100 * 32 * 32);
    result.head.dispose();
    backbone.dispose();
  });
});
