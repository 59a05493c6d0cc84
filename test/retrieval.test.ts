// Retrieval: rankings, Recall@k and mAP against values worked out by hand; attention maps and their mask.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attentionMassMask, clsAttentionMaps, retrieval } from '../src/eval/index.js';
import { heatmapColors } from '../src/io/index.js';
import { vitTiny } from '../src/models/index.js';
import { Generator, rand, tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('retrieval', () => {
  // 2-D features at known angles: the cosine ranking is the angular order.
  const at = (deg: number[]) => tensor(deg.map((d) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)]));
  const ints = (v: number[]) => tensor(v, { dtype: 'int64' });

  test('ranks the gallery by cosine similarity and scores Recall@k and mAP as worked out by hand', () => {
    // gallery at 0, 12, 50, 100, 170 degrees with classes a, b, a, b, b; queries at 5 (class a) and 95 (class b)
    const gallery = at([0, 12, 50, 100, 170]);
    const queries = at([5, 95]);
    const r = retrieval(queries, gallery, { queryLabels: ints([0, 1]), galleryLabels: ints([0, 1, 0, 1, 1]), ks: [1, 2, 5] });
    // query 5 deg: distances 5, 7, 45, 95, 165 -> order 0, 1, 2, 3, 4
    // query 95 deg: distances 95, 83, 45, 5, 75 -> order 3, 2, 4, 1, 0
    assert.deepEqual(r.neighbours.toArray(), [[0, 1, 2, 3, 4], [3, 2, 4, 1, 0]]);
    assertClose(r.similarities.select(0, 0).narrow(0, 0, 1).toArray() as number[], [Math.cos((5 * Math.PI) / 180)], 1e-6);
    // query 1 relevant at ranks 1, 3: AP = (1/1 + 2/3) / 2; query 2 relevant at ranks 1, 3, 4: AP = (1 + 2/3 + 3/4) / 3
    assertClose([r.mAP!], [((1 + 2 / 3) / 2 + (1 + 2 / 3 + 3 / 4) / 3) / 2], 1e-6);
    assert.deepEqual(r.recall, { 1: 1, 2: 1, 5: 1 });
    const miss = retrieval(queries, gallery, { queryLabels: ints([1, 0]), galleryLabels: ints([0, 1, 0, 1, 1]), ks: [1, 2] });
    // query 1 (now class b): first relevant at rank 2; query 2 (class a): ranks 2, 5
    assert.deepEqual(miss.recall, { 1: 0, 2: 1 });
    assertClose([miss.mAP!], [((1 / 2 + 2 / 4 + 3 / 5) / 3 + (1 / 2 + 2 / 5) / 2) / 2], 1e-6);
  });

  test('leave-one-out: with the queries as the gallery, nobody finds itself', () => {
    const x = at([0, 20, 90, 110]);
    const labels = ints([0, 0, 1, 1]);
    const r = retrieval(x, x, { queryLabels: labels, galleryLabels: labels, ks: [1, 3], excludeSelf: true, chunk: 3 });
    assert.deepEqual(r.neighbours.select(1, 0).toArray(), [1, 0, 3, 2]);
    assert.ok((r.neighbours.toArray() as number[][]).every((row, i) => !row.includes(i)));
    assert.deepEqual(r.recall, { 1: 1, 3: 1 });
    assertClose([r.mAP!], [1], 1e-6);
    assert.throws(() => retrieval(x, at([0]), { excludeSelf: true }), /queries to be the gallery/);
    assert.throws(() => retrieval(x, x, { queryLabels: ints([0]), galleryLabels: labels }), /query labels/);
    assert.throws(() => retrieval(x, tensor([[1, 2, 3]])), /\[Q, D\]/);
  });
});

describe('attention maps', () => {
  test('one map per head over the image, each stretched to [0, 1], from rows of attention that sum to 1', () => {
    const g = new Generator(3);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 2, heads: 4, generator: g });
    const x = rand([2, 3, 16, 16], { generator: g });
    const attention = vit.lastAttention(x); // [2, 4, 17, 17]
    assertClose(attention.sum(-1).flatten().toArray() as number[], Array(2 * 4 * 17).fill(1), 1e-5);
    const maps = clsAttentionMaps(vit, x);
    assert.deepEqual(maps.shape, [2, 4, 16, 16]);
    assertClose(maps.amax([2, 3]).flatten().toArray() as number[], Array(8).fill(1), 1e-6);
    assertClose(maps.amin([2, 3]).flatten().toArray() as number[], Array(8).fill(0), 1e-6);
    // nearest upsampling: pixel (5, 9) lies in patch (1, 2), patch index 6 of the 4x4 grid
    const cls = attention.select(2, 0).slice(2, 1);
    const expected = cls.select(2, 6).sub(cls.amin(2)).div(cls.amax(2).sub(cls.amin(2)));
    assertClose(maps.select(2, 5).select(2, 9).flatten().toArray() as number[], expected.flatten().toArray() as number[], 1e-6);
    assert.throws(() => clsAttentionMaps(vit, rand([1, 3, 18, 18])), /multiple of the patch size/);
    vit.dispose();
  });

  test('the mass mask keeps the most attended pixels holding the share, and the colour map runs blue to red', () => {
    const maps = tensor([0.5, 0.3, 0.15, 0.05]).reshape(1, 1, 2, 2);
    assert.deepEqual(attentionMassMask(maps, 0.6).flatten().toArray(), [1, 1, 0, 0]); // 0.5 < 0.6, so 0.3 joins
    assert.deepEqual(attentionMassMask(maps, 0.45).flatten().toArray(), [1, 0, 0, 0]);
    assert.deepEqual(attentionMassMask(maps, 0.9).flatten().toArray(), [1, 1, 1, 0]);
    const colours = heatmapColors(tensor([0, 0.5, 1]).reshape(3, 1, 1, 1)).reshape(3, 3).toArray();
    assert.deepEqual(colours, [[0, 0, 0.5], [0.5, 1, 0.5], [0.5, 0, 0]]);
  });
});
