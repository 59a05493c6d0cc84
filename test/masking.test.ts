// Mask generators: MAE's random patch masking and BEiT's blockwise masking.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blockwiseMask, randomPatchMask } from '../src/transforms/index.js';
import { Generator, arange } from '../src/tensor/index.js';

describe('random patch masking (MAE)', () => {
  test('keeps (1 - ratio) of the patches per sample; ids, restore order and mask agree', () => {
    const { keepIds, idsRestore, mask } = randomPatchMask(4, 64, 0.75, new Generator(0));
    assert.deepEqual(keepIds.shape, [4, 16]);
    assert.deepEqual(mask.sum(1).toArray(), [48, 48, 48, 48]);
    assert.equal(mask.gather(1, keepIds).any().item(), 0, 'kept patches are not masked');
    const kept = keepIds.toArray() as number[][];
    assert.ok(kept.every((row) => new Set(row).size === 16), 'no patch kept twice');
    // idsRestore inverts the shuffle: sorting the keep ids by restore position gives patch order.
    const shuffle = idsRestore.argsort(1);
    assert.ok(shuffle.gather(1, idsRestore).equal(arange(0, 64).unsqueeze(0).expand(4, 64)));
    assert.ok(shuffle.slice(1, 0, 16).equal(keepIds));
    assert.notDeepEqual(kept[0], kept[1], 'samples are masked independently');
  });
  test('seeded: the same generator seed gives the same masks', () => {
    const a = randomPatchMask(2, 16, 0.5, new Generator(7));
    const b = randomPatchMask(2, 16, 0.5, new Generator(7));
    assert.ok(a.mask.equal(b.mask) && a.keepIds.equal(b.keepIds));
    assert.throws(() => randomPatchMask(1, 4, 1), /ratio must be in \[0, 1\)/);
  });
});

describe('mask statistics over many seeds', () => {
  test('random masking hides every position about 75% of the time; blockwise masks about 40% everywhere on the grid', () => {
    const seeds = 50;
    const random = Array.from({ length: seeds }, (_, s) => randomPatchMask(16, 64, 0.75, new Generator(100 + s)).mask.float().mean(0).toArray() as number[]);
    const perPosition = random[0].map((_, p) => random.reduce((sum, row) => sum + row[p], 0) / seeds); // 800 draws each
    assert.ok(perPosition.every((f) => Math.abs(f - 0.75) < 0.06), `random: per-position frequencies ${Math.min(...perPosition)}..${Math.max(...perPosition)}`);
    const blocks = Array.from({ length: seeds }, (_, s) => blockwiseMask(16, 8, 8, { maskPatches: 26, minPatches: 4 }, new Generator(200 + s)));
    const ratio = blocks.reduce((sum, m) => sum + m.float().mean().item(), 0) / seeds;
    assert.ok(ratio > 0.36 && ratio <= 26 / 64, `blockwise: mean ratio ${ratio} (target 26 / 64)`);
    const covered = blocks.reduce((sum, m) => sum.add(m.float().mean(0)), blocks[0].float().mean(0).mul(0)).div(seeds).toArray() as number[];
    assert.ok(covered.every((f) => f > 0.05), `blockwise: every position masked sometimes, corners least (min ${Math.min(...covered)})`);
  });
});

describe('blockwise masking (BEiT)', () => {
  test('masks up to 40% of a 14x14 grid in rectangles of at least 16 patches', () => {
    const mask = blockwiseMask(32, 14, 14, {}, new Generator(1));
    assert.deepEqual(mask.shape, [32, 196]);
    assert.equal(mask.dtype, 'bool');
    const counts = mask.sum(1).toArray() as number[];
    assert.ok(counts.every((c) => c <= 78), `at most round(0.4 * 196) = 78 patches: ${counts}`);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    assert.ok(mean > 60, `close to the target on average: ${mean}`);
    // Blocks, not scattered patches: almost every masked patch has a masked 4-neighbour (only the
    // last block of a sample, sized by the few patches still to mask, can be a single patch).
    const grids = mask.view(32, 14, 14).toArray() as number[][][];
    let masked = 0;
    let isolated = 0;
    for (const g of grids) {
      for (let i = 0; i < 14; i++) for (let j = 0; j < 14; j++) {
        if (!g[i][j]) continue;
        masked++;
        if (![g[i - 1]?.[j], g[i + 1]?.[j], g[i][j - 1], g[i][j + 1]].some((v) => v === 1)) isolated++;
      }
    }
    assert.ok(isolated <= 32 && isolated / masked < 0.02, `${isolated} isolated of ${masked} masked patches`);
  });
  test('seeded and configurable', () => {
    const a = blockwiseMask(3, 8, 8, { maskPatches: 20, minPatches: 4 }, new Generator(5));
    const b = blockwiseMask(3, 8, 8, { maskPatches: 20, minPatches: 4 }, new Generator(5));
    assert.ok(a.equal(b));
    assert.ok((a.sum(1).toArray() as number[]).every((c) => c <= 20));
    assert.throws(() => blockwiseMask(1, 4, 4, { maskPatches: 17 }), /17 patches to mask in a grid of 16/);
  });
});
