// Crops, colour jitter, blur, rotations, view configs and presets: torchvision's outputs for the same
// parameters, the distributions of the drawn parameters, and per-image, seeded randomness.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { writeSafetensors } from '../src/io/index.js';
import { vitTiny } from '../src/models/index.js';
import { Generator, liveTensors, ones, rand, resizedCrops, tensor, tidy } from '../src/tensor/index.js';
import { CIFAR10_MEAN, CIFAR10_STD, adjustBrightness, adjustContrast, adjustHue, adjustSaturation, applyView, centerCrop, checkViewConfig, colorJitter, defaultBlurKernel, gaussianBlur, gaussianBlurWith, randomResizedCrop, resize, rotate90, sampleCropBox, sampleCropBoxes, uniformStream, verticalFlip } from '../src/transforms/index.js';
import { VIEW_PRESETS, methodViews } from '../src/methods/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('augmentations equal torchvision', () => {
  test('resized crops, colour adjustments, blur, rotations and eval resizing match python3-torchvision image by image', () => {
    const g = new Generator(1);
    const n = 12;
    const x = rand([n, 3, 16, 16], { generator: g });
    const boxes = sampleCropBoxes(n, 16, 16, [0.08, 1], [3 / 4, 4 / 3], g);
    const factors = tensor(Array.from({ length: n }, (_, i) => 0.3 + 0.12 * i));
    const hues = tensor(Array.from({ length: n }, (_, i) => -0.45 + 0.08 * i));
    const sigmas = tensor(Array.from({ length: n }, (_, i) => 0.1 + 0.17 * i));
    const turns = Array.from({ length: n }, (_, i) => i % 4);
    const io = join(mkdtempSync(join(tmpdir(), 'selfsup-aug-')), 'io.safetensors');
    writeSafetensors(io, {
      input: x, size: tensor([12, 10]), boxes, factors, hues, sigmas, kernel: tensor([5]), turns: tensor(turns),
      crop_bilinear: resizedCrops(x, boxes, [12, 10]), crop_bicubic: resizedCrops(x, boxes, [12, 10], 'bicubic'),
      brightness: adjustBrightness(x, factors), contrast: adjustContrast(x, factors), saturation: adjustSaturation(x, factors),
      hue: adjustHue(x, hues), blur: gaussianBlurWith(x, 5, sigmas), rot90: rotate90(x, turns), vflip: verticalFlip(x),
      resize_center: centerCrop(resize(x, 9), 7), resize_rect: resize(x, [5, 11]),
    });
    const script = fileURLToPath(new URL('../../test/fixtures/check_torchvision_augment.py', import.meta.url));
    const diffs = JSON.parse(execFileSync('/usr/bin/python3', [script, io], { encoding: 'utf8' })) as Record<string, number>;
    assert.equal(Object.keys(diffs).length, 11);
    for (const [name, diff] of Object.entries(diffs)) assert.ok(diff < 1e-5, `${name}: max difference from torchvision ${diff}`);
  });

  test('hand-worked values: a crop of a ramp, brightness, saturation of grey, hue of pure red', () => {
    // A 1x4 ramp cropped to its right half and resized (nearest) keeps those pixels.
    const ramp = tensor([0, 10, 20, 30], { shape: [1, 1, 1, 4], dtype: 'uint8' });
    assert.deepEqual(resizedCrops(ramp, tensor([[0, 2, 1, 2]], { dtype: 'int64' }), [1, 2], 'nearest').flatten().toArray(), [20, 30]);
    const px = tensor([0.2, 0.4, 0.8], { shape: [1, 3, 1, 1] });
    assertClose(adjustBrightness(px, tensor([1.5])).flatten().toArray(), [0.3, 0.6, 1.0]);
    // Grey stays grey (up to the luma weights summing to 0.9999, as torchvision's).
    const grey = tensor([0.5, 0.5, 0.5], { shape: [1, 3, 1, 1] });
    assertClose(adjustSaturation(grey, tensor([3])).flatten().toArray(), [0.5, 0.5, 0.5], 2e-4);
    // Red rotated by a third of the circle is green, by two thirds blue; a full turn changes nothing.
    const red = tensor([1, 0, 0], { shape: [1, 3, 1, 1] });
    assertClose(adjustHue(red, tensor([1 / 3])).flatten().toArray(), [0, 1, 0], 1e-6);
    assertClose(adjustHue(red, tensor([-1 / 3])).flatten().toArray(), [0, 0, 1], 1e-6);
    assertClose(adjustHue(px, tensor([0])).flatten().toArray(), [0.2, 0.4, 0.8], 1e-6);
    // Contrast 0 gives the mean grey level everywhere.
    const two = tensor([0, 1, 0, 1, 0, 1], { shape: [1, 3, 1, 2] }); // a black and a white pixel
    const mean = (0.2989 + 0.587 + 0.114) / 2;
    assertClose(adjustContrast(two, tensor([0])).flatten().toArray(), Array(6).fill(mean), 1e-6);
  });

  test('boxes: area within scale, aspect within ratio, inside the image; the centre fallback', () => {
    const uniform = uniformStream(new Generator(5));
    let areaSum = 0;
    for (let i = 0; i < 2000; i++) {
      const [top, left, h, w] = sampleCropBox(32, 48, [0.2, 0.6], [0.5, 2], uniform);
      assert.ok(top >= 0 && left >= 0 && top + h <= 32 && left + w <= 48, `box ${[top, left, h, w]}`);
      const area = (h * w) / (32 * 48);
      assert.ok(area > 0.17 && area < 0.65, `area ${area}`);
      assert.ok(w / h > 0.45 && w / h < 2.2, `aspect ${w / h}`);
      areaSum += area;
    }
    assert.ok(Math.abs(areaSum / 2000 - 0.4) < 0.02, `mean area ${areaSum / 2000} (uniform in [0.2, 0.6])`);
    // No box of 90-100% area and ratio 4 fits a square: the centre crop clamped to the ratio range,
    // its height round(10 / 4) = 2 with Python's rounding of halves to even, as torchvision.
    assert.deepEqual(sampleCropBox(10, 10, [0.9, 1], [4, 5], uniformStream(new Generator(0))), [4, 0, 2, 10]);
  });
});

describe('random augmentations', () => {
  const images = tidy(() => rand([64, 3, 8, 8], { generator: new Generator(9) }).mul(255).to('uint8'));

  test('randomResizedCrop: float in [0, 1] at the asked size, seeded, each image its own box', () => {
    const a = randomResizedCrop(images, { size: 6 }, new Generator(2));
    assert.deepEqual(a.shape, [64, 3, 6, 6]);
    assert.equal(a.dtype, 'float32');
    assert.ok(a.min().item() >= 0 && a.max().item() <= 1);
    assert.ok(a.equal(randomResizedCrop(images, { size: 6 }, new Generator(2))));
    const same = randomResizedCrop(images.narrow(0, 0, 1).expand(64, 3, 8, 8).contiguous(), { size: 6 }, new Generator(3));
    assert.ok(same.flatten(1).std(0).mean().item() > 0.01, 'copies of one image get different crops');
    assert.throws(() => randomResizedCrop(images, { size: 6, scale: [0.5, 0.2] }), /scale must be \[min, max\]/);
  });

  test('colorJitter: factors within range per image, p chooses images, identical images diverge', () => {
    const x = ones([400, 3, 2, 2]).mul(0.5);
    const bright = colorJitter(x, { brightness: 0.4 }, new Generator(4)).select(1, 0).mean([1, 2]).div(0.5).flatten().toArray() as number[];
    assert.ok(Math.min(...bright) >= 0.6 - 1e-6 && Math.max(...bright) <= 1.4 + 1e-6);
    assert.ok(Math.min(...bright) < 0.7 && Math.max(...bright) > 1.3, 'factors spread over [0.6, 1.4]');
    const some = colorJitter(x, { brightness: 0.4, p: 0.3 }, new Generator(5));
    const changed = some.ne(x).flatten(1).any(1).float().mean().item();
    assert.ok(changed > 0.22 && changed < 0.38, `about 30% jittered: ${changed}`);
    assert.ok(colorJitter(x, { brightness: 0.4, p: 0 }, new Generator(6)).equal(x));
    assert.throws(() => colorJitter(x, { hue: 0.7 }), /hue range \[-0.7, 0.7\] must lie within \[-0.5, 0.5\]/);
  });

  test('colorJitter applies the four adjustments in a random order per image', () => {
    // Brightness then contrast differs from contrast then brightness (clamping); with both, the
    // batch must contain each order's result for some image.
    const px = tensor([0.9, 0.1, 0.5], { shape: [1, 3, 1, 1] }).expand(300, 3, 1, 1).contiguous();
    const out = colorJitter(px, { brightness: [1.6, 1.6], contrast: [0.5, 0.5] }, new Generator(7));
    const bThenC = adjustContrast(adjustBrightness(px, tensor(Array(300).fill(1.6))), tensor(Array(300).fill(0.5)));
    const cThenB = adjustBrightness(adjustContrast(px, tensor(Array(300).fill(0.5))), tensor(Array(300).fill(1.6)));
    const isB = out.sub(bThenC).abs().flatten(1).amax(1).lt(1e-6);
    const isC = out.sub(cThenB).abs().flatten(1).amax(1).lt(1e-6);
    assert.ok(isB.logicalOr(isC).all().item(), 'every image is one of the two orders');
    const share = isB.float().mean().item();
    assert.ok(share > 0.35 && share < 0.65, `about half brightness first: ${share}`);
  });

  test('gaussianBlur: p chooses images, blur lowers local variation, kernel size from the side', () => {
    const x = rand([200, 3, 16, 16], { generator: new Generator(8) });
    const out = gaussianBlur(x, { kernelSize: 5, p: 0.5 }, new Generator(9));
    const blurred = out.ne(x).flatten(1).any(1);
    const share = blurred.float().mean().item();
    assert.ok(share > 0.38 && share < 0.62, `about half blurred: ${share}`);
    const roughness = (t: typeof x) => t.narrow(3, 1, 15).sub(t.narrow(3, 0, 15)).abs().mean().item();
    assert.ok(roughness(gaussianBlur(x, { kernelSize: 5, sigma: [1, 2] }, new Generator(1))) < 0.5 * roughness(x));
    assert.equal(defaultBlurKernel(224), 23);
    assert.equal(defaultBlurKernel(96), 9);
    assert.equal(defaultBlurKernel(32), 3);
    assert.throws(() => gaussianBlurWith(x, 4, ones([200])), /positive odd integer/);
  });
});

describe('views and presets', () => {
  const images = tidy(() => rand([16, 3, 32, 32], { generator: new Generator(10) }).mul(255).to('uint8'));

  test('every preset gives valid views; SimCLR two, DINO 2 global + N local, MAE/BEiT one view with masks', () => {
    for (const name of VIEW_PRESETS) {
      for (const size of [32, 96, 224]) {
        const set = methodViews(name, { size });
        assert.ok(set.views.length >= 1, name);
      }
    }
    assert.equal(methodViews('simclr', { size: 32 }).views.length, 2);
    const dino = methodViews('dino', { size: 224, localCrops: 8 });
    assert.deepEqual(dino.views.map((v) => v.size), [224, 224, ...Array(8).fill(96)]);
    assert.equal(methodViews('dino', { size: 32 }).views[2].size, 16);
    // local crops a multiple of the ViT's patch: at 96 px with patch 16, 48 (40 stopped ViT-Tiny/16)
    assert.equal(methodViews('dino', { size: 96 }).views[2].size, 48);
    assert.equal(methodViews('ibot', { size: 96, patchSize: 8 }).views[2].size, 40);
    assert.equal(methodViews('dino', { size: 160, patchSize: 14 }).views[2].size, 70);
    tidy(() => {
      const vit = vitTiny({ imageSize: 96, patchSize: 16, depth: 1 });
      assert.deepEqual(vit.forward(rand([1, 3, 48, 48])).shape, [1, 192]);
      vit.dispose();
    });
    const byol = methodViews('byol', { size: 96 });
    assert.deepEqual(byol.views.map((v) => [v.blur?.p, v.solarize?.p ?? 0]), [[1, 0], [0.1, 0.2]]);
    assert.equal(methodViews('simclr', { size: 32 }).views[0].blur, undefined, 'no blur at 32x32 (SimCLR CIFAR)');
    assert.deepEqual(methodViews('mae', { size: 32 }).mask, { kind: 'random', patchSize: 4, ratio: 0.75 });
    assert.equal(methodViews('beit', { size: 224 }).mask?.kind, 'blockwise');
    const grey = methodViews('simclr', { size: 32, domain: 'grayscale' }).views[0];
    assert.equal(grey.colorJitter, undefined);
    assert.equal(grey.grayscale, undefined);
    const aerial = methodViews('simclr', { size: 32, domain: 'aerial' }).views[0];
    assert.deepEqual([aerial.verticalFlip, aerial.rotate90], [0.5, 1]);
    assert.throws(() => methodViews('dino', { size: 32, localCrops: -1 }), /localCrops must be a non-negative integer/);
  });

  test('applyView: shapes, normalisation, grayscale sources to RGB, seeded; bad configs named', () => {
    const view = methodViews('simclr', { size: 24, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } }).views[0];
    const a = applyView(images, view, new Generator(1));
    assert.deepEqual(a.shape, [16, 3, 24, 24]);
    assert.ok(a.equal(applyView(images, view, new Generator(1))));
    assert.ok(!a.equal(applyView(images, view, new Generator(2))));
    const evalView = methodViews('eval', { size: 32, normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } }).views[0];
    assertClose(applyView(images, evalView).flatten().toArray() as number[], images.float().div(255).sub(0.5).div(0.5).flatten().toArray() as number[], 1e-6);
    const gray = applyView(images.narrow(1, 0, 1), { size: 8, crop: 'resize' });
    assert.deepEqual(gray.shape, [16, 3, 8, 8]);
    assert.ok(gray.select(1, 0).equal(gray.select(1, 2)));
    assert.throws(() => checkViewConfig({ size: 0 }), /view.size must be a positive integer/);
    assert.throws(() => checkViewConfig({ size: 8, grayscale: 1.5 }), /view.grayscale must be a probability/);
    assert.throws(() => checkViewConfig({ size: 8, crop: { scale: [0, 1] } }), /view.crop.scale/);
  });

  test('bicubic crops stay in [0, 1], so colour jitter after them never makes NaN (a DINO view did)', () => {
    // black and white stripes: bicubic resampling overshoots below 0 and above 1 at every edge
    const stripes = tensor(Array.from({ length: 64 * 3 * 32 * 32 }, (_, i) => (Math.floor((i % 32) / 2) % 2) * 255), { shape: [64, 3, 32, 32], dtype: 'uint8' });
    const view = { size: 16, crop: { scale: [0.05, 0.4] as [number, number] }, interpolation: 'bicubic' as const };
    const cropped = applyView(stripes, view, new Generator(4));
    assert.ok(cropped.min().item() >= 0 && cropped.max().item() <= 1, `range ${cropped.min().item()}..${cropped.max().item()}`);
    const jittered = applyView(stripes, { ...view, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 1 } }, new Generator(4));
    assert.ok(jittered.isfinite().all().item());
  });

  test('augmenting frees every intermediate tensor', () => {
    const view = methodViews('byol', { size: 96 }).views[1];
    const before = liveTensors();
    tidy(() => { applyView(images, view, new Generator(3)); });
    assert.equal(liveTensors(), before);
  });
});
