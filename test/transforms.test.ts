// Batched augmentations: hand-worked values, per-sample randomness, and torchvision's outputs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { writeSafetensors } from '../src/io/index.js';
import { Generator, ones, rand, tensor } from '../src/tensor/index.js';
import {
  IMAGENET_MEAN, IMAGENET_STD, grayscale, horizontalFlip, normalize, randomGrayscale, randomHorizontalFlip, solarize,
} from '../src/transforms/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('colour and flip transforms', () => {
  test('hand-worked values', () => {
    const px = tensor([0.2, 0.6, 1.0], { shape: [1, 3, 1, 1] });
    assertClose(normalize(px, [0.5, 0.5, 0.5], [0.5, 0.25, 0.5]).flatten().toArray(), [-0.6, 0.4, 1]);
    const luma = 0.2989 * 0.2 + 0.587 * 0.6 + 0.114 * 1.0;
    assertClose(grayscale(px).flatten().toArray(), [luma, luma, luma]);
    assertClose(solarize(tensor([0.2, 0.5, 0.9], { shape: [1, 3, 1, 1] })).flatten().toArray(), [0.2, 0.5, 0.1]);
    assertClose(horizontalFlip(tensor([1, 2, 3], { shape: [1, 1, 1, 3] })).flatten().toArray(), [3, 2, 1]);
    assert.throws(() => grayscale(ones([1, 1, 2, 2])), /expected images \[B, 3, H, W\]/);
    assert.throws(() => normalize(ones([1, 3, 2, 2]), [0, 0, 0], [1, 0, 1]), /one positive value per channel/);
  });
  test('random variants choose per sample, seeded', () => {
    const x = rand([200, 3, 2, 2], { generator: new Generator(0) });
    const flipped = randomHorizontalFlip(x, 0.5, new Generator(1));
    const changed = flipped.ne(x).flatten(1).any(1).float().mean().item();
    assert.ok(changed > 0.35 && changed < 0.65, `about half flipped: ${changed}`);
    assert.ok(flipped.equal(randomHorizontalFlip(x, 0.5, new Generator(1))), 'same seed, same choices');
    assert.ok(randomGrayscale(x, 0, new Generator(2)).equal(x));
    assert.ok(randomGrayscale(x, 1, new Generator(2)).equal(grayscale(x)));
  });
  test('outputs equal torchvision.transforms.functional on the same images (python3-torchvision)', () => {
    const input = rand([2, 3, 5, 7], { generator: new Generator(3) });
    const io = join(mkdtempSync(join(tmpdir(), 'selfsup-tf-')), 'io.safetensors');
    writeSafetensors(io, {
      input, normalize: normalize(input, IMAGENET_MEAN, IMAGENET_STD), hflip: horizontalFlip(input),
      grayscale: grayscale(input), solarize: solarize(input, 0.5),
    });
    const script = fileURLToPath(new URL('../../test/fixtures/check_torchvision_transforms.py', import.meta.url));
    const diffs = JSON.parse(execFileSync('/usr/bin/python3', [script, io], { encoding: 'utf8' })) as Record<string, number>;
    for (const [name, diff] of Object.entries(diffs)) assert.ok(diff < 1e-6, `${name}: max difference ${diff}`);
    assert.deepEqual(Object.keys(diffs).sort(), ['grayscale', 'hflip', 'normalize', 'solarize']);
  });
});
