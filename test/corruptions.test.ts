// Corruptions (CIFAR-10-C style) by hand and by their statistics; robustness accuracies and mCE.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImageArray } from '../src/data/index.js';
import { corruptionRobustness } from '../src/eval/index.js';
import { Generator, rand, tensor, tidy } from '../src/tensor/index.js';
import { CORRUPTIONS, corrupt } from '../src/transforms/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('corruptions', () => {
  test('every corruption at every severity: same shape, in [0, 1], seeded, and severity 5 moves the image further than severity 1', async () => {
    const images = tidy(() => rand([4, 3, 32, 32], { generator: new Generator(1) }).mul(200).add(28).to('uint8'));
    const x = tidy(() => images.float().div(255));
    for (const name of CORRUPTIONS) {
      const distance: number[] = [];
      for (const severity of [1, 5]) {
        const out = await corrupt(images, name, severity, new Generator(2));
        assert.deepEqual(out.shape, [4, 3, 32, 32]);
        assert.ok(out.min().item() >= 0 && out.max().item() <= 1, `${name} ${severity}: in [0, 1]`);
        const again = await corrupt(images, name, severity, new Generator(2));
        assert.ok(out.equal(again), `${name}: the same generator gives the same corruption`);
        distance.push(out.sub(x).abs().mean().item());
      }
      assert.ok(distance[1] > distance[0], `${name}: severity 1 moved ${distance[0]}, severity 5 ${distance[1]}`);
    }
    await assert.rejects(corrupt(images, 'snow' as never, 1), /unknown corruption 'snow'/);
    await assert.rejects(corrupt(images, 'haze', 6), /severity must be an integer from 1 to 5/);
  });

  test('contrast, brightness and the noises as the formulas say', async () => {
    // contrast 0.75 (severity 1) pulls each pixel towards the image mean
    const two = tensor([0.2, 0.6, 0.2, 0.6, 0.2, 0.6], { shape: [1, 3, 1, 2] });
    assertClose((await corrupt(two, 'contrast', 1)).flatten().toArray() as number[], [0.25, 0.55, 0.25, 0.55, 0.25, 0.55], 1e-6);
    // brightness 0.1 (severity 2): V 0.5 -> 0.6 at the same hue and saturation, black -> grey 0.1
    const px = tensor([0.2, 0, 0.4, 0, 0.5, 0], { shape: [1, 3, 1, 2] });
    assertClose((await corrupt(px, 'brightness', 2)).flatten().toArray() as number[], [0.24, 0.1, 0.48, 0.1, 0.6, 0.1], 1e-6);
    // Gaussian noise 0.1 (severity 5): std 0.1 around a mid-grey image; shot noise 50: mean x, variance x / 50
    const grey = tensor(Array(3 * 64 * 64).fill(0.5), { shape: [1, 3, 64, 64] });
    const noisy = await corrupt(grey, 'gaussian_noise', 5, new Generator(3));
    assertClose([noisy.sub(0.5).std().item()], [0.1], 0.005);
    const shot = await corrupt(grey, 'shot_noise', 5, new Generator(4));
    assertClose([shot.mean().item(), shot.var().item()], [0.5, 0.5 / 50], 0.002);
  });
});

describe('robustness report', () => {
  test('accuracy per corruption and severity, and CE / mCE against a baseline by hand', async () => {
    // dark images are class 0, bright ones class 1; the classifier thresholds the mean pixel at 0.5 (logits [0.5 - m, m - 0.5])
    const n = 8;
    const pixels = new Uint8Array(n * 3 * 8 * 8).map((_, i) => (Math.floor(i / (3 * 8 * 8)) % 2 === 0 ? 40 : 215));
    const images = new ImageArray(pixels, 3, 8, 8, Int32Array.from({ length: n }, (_, i) => i % 2));
    const logits = (x: ReturnType<typeof tensor>) => tidy(() => {
      const m = x.mean([1, 2, 3]).unsqueeze(1); // [B, 1]
      return m.neg().add(0.5).expand(x.size(0), 2).mul(tensor([[1, -1]]));
    });
    const view = { size: 8, crop: 'resize' as const };
    const report = await corruptionRobustness(logits, images, view, { corruptions: ['contrast', 'brightness'], severities: [1, 5] });
    assert.equal(report.clean, 1);
    // contrast keeps the mean: always right; brightness +0.3 lifts dark 40/255 = 0.157 to 0.457 (< 0.5): still right
    assert.deepEqual(report.accuracy, { contrast: [1, 1], brightness: [1, 1] });
    const baseline = { accuracy: { contrast: [0.9, 0.5], brightness: [0.8, 0.6] } };
    const worse = await corruptionRobustness((x) => tidy(() => logits(x).neg()), images, view, { corruptions: ['contrast', 'brightness'], severities: [1, 5], baseline });
    // every prediction flipped: error 1 at each severity; CE = 2 / (0.1 + 0.5) and 2 / (0.2 + 0.4)
    assertClose([worse.corruptionError!.contrast, worse.corruptionError!.brightness, worse.mCE!], [2 / 0.6, 2 / 0.6, 2 / 0.6], 1e-9);
    assert.equal(worse.clean, 0);
    await assert.rejects(corruptionRobustness(logits, images, view, { corruptions: ['haze'], severities: [1], baseline }), /baseline has no 'haze'/);
  });
});
