// MAE: patch order, the masked reconstruction loss by hand, the mask bookkeeping, and an encoder
// that only ever sees the visible patches.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskedReconstructionLoss } from '../src/losses/index.js';
import { MAE, visibleFirst } from '../src/methods/index.js';
import { patchify, unpatchify, vitTiny } from '../src/models/index.js';
import { Generator, arange, cat, rand, tensor, tidy, where } from '../src/tensor/index.js';
import { randomPatchMask } from '../src/transforms/index.js';
import { assertClose, gradcheck } from './helpers/gradcheck.js';

describe('MAE', () => {
  test('patchify orders patches row-major and pixels (row, column, channel), as MAE; unpatchify inverts it', () => {
    const [b, c, side, p] = [2, 3, 8, 4];
    const x = arange(0, b * c * side * side).float().reshape(b, c, side, side);
    const rows = patchify(x, p).toArray() as number[][][];
    const at = (n: number, ch: number, y: number, xx: number) => ((n * c + ch) * side + y) * side + xx;
    for (let n = 0; n < b; n++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      for (let a = 0; a < p; a++) for (let q = 0; q < p; q++) for (let ch = 0; ch < c; ch++) {
        assert.equal(rows[n][i * 2 + j][(a * p + q) * c + ch], at(n, ch, i * p + a, j * p + q));
      }
    }
    assert.equal(unpatchify(patchify(x, p), p).sub(x).abs().max().item(), 0);
    assert.throws(() => patchify(x, 3), /multiples of 3/);
  });

  test('the loss averages the squared error over masked patches only; normalised targets by hand; gradient checks', () => {
    const pred = tensor([[[1, 2], [3, 5]]]);
    const target = tensor([[[0, 0], [1, 3]]]);
    const mask = tensor([[0, 1]], { dtype: 'bool' });
    assertClose([maskedReconstructionLoss(pred, target, mask).item()], [((3 - 1) ** 2 + (5 - 3) ** 2) / 2], 1e-6);
    // patch 2's target [1, 3]: mean 2, unbiased variance 2 -> [-1, 1] / sqrt(2 + 1e-6)
    const t = 1 / Math.sqrt(2 + 1e-6);
    assertClose([maskedReconstructionLoss(pred, target, mask, { normalizePixels: true }).item()], [((3 + t) ** 2 + (5 - t) ** 2) / 2], 1e-5);
    const g = new Generator(4);
    const p64 = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const t64 = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const m = tensor([[1, 0, 1], [0, 0, 1]], { dtype: 'bool' });
    gradcheck((a) => maskedReconstructionLoss(a, t64, m, { normalizePixels: true }), [p64]);
    assert.throws(() => maskedReconstructionLoss(pred, target, tensor([[1]], { dtype: 'bool' })), /mask \[B, N\]/);
  });

  test('visibleFirst: kept ids are the visible patches, and restoring puts [visible, masked] back in patch order', () => {
    const { mask } = randomPatchMask(5, 16, 0.75, new Generator(2));
    const { keepIds, idsRestore } = visibleFirst(mask);
    assert.deepEqual(keepIds.shape, [5, 4]);
    assert.ok(mask.gather(1, keepIds).logicalNot().all().item());
    const masked = mask.nonzero().select(1, 1).reshape(5, 12);
    const order = tidy(() => cat([keepIds, masked], 1).gather(1, idsRestore));
    assert.deepEqual(order.toArray(), Array.from({ length: 5 }, () => Array.from({ length: 16 }, (_, i) => i)));
    const uneven = tensor([[1, 0, 0, 0], [1, 1, 0, 0]], { dtype: 'bool' });
    assert.throws(() => visibleFirst(uneven), /same number of visible patches/);
  });

  test('the encoder sees only visible patches: changing masked pixels leaves the predictions as they were', () => {
    const g = new Generator(0);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 2, heads: 2, posEmbed: 'sincos', generator: g });
    const mae = new MAE(vit, { decoderDim: 16, decoderDepth: 1, decoderHeads: 2, generator: g });
    const images = rand([3, 3, 16, 16], { generator: g });
    const { mask } = randomPatchMask(3, 16, 0.75, g);
    const pixels = unpatchify(mask.unsqueeze(-1).expand(3, 16, 48).float(), 4).gt(0.5); // true on masked pixels
    const other = rand([3, 3, 16, 16], { generator: g });
    const before = mae.reconstruct(images, mask).pred;
    assert.equal(mae.reconstruct(where(pixels, other, images), mask).pred.sub(before).abs().max().item(), 0);
    assert.ok(mae.reconstruct(where(pixels, images, other), mask).pred.sub(before).abs().max().item() > 1e-3, 'visible pixels matter');
    const { loss } = mae.step([images], mask);
    assert.ok(Number.isFinite(loss.item()));
    const pictures = mae.reconstructImages(images, mask);
    // the pasted picture keeps the visible pixels exactly and is the prediction elsewhere
    assert.ok(where(pixels, 0, pictures.pasted.sub(images)).abs().max().item() < 1e-6);
    assert.ok(where(pixels, pictures.pasted.sub(pictures.predicted), 0).abs().max().item() < 1e-6);
    assert.throws(() => new MAE(vit, { maskRatio: 1 }), /maskRatio must be in \(0, 1\)/);
    mae.dispose();
  });
});
