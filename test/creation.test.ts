// Creating tensors, reading them back, dtypes, and seeded randomness.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Generator, arange, bernoulli, empty, eye, fromBytes, full, linspace, manualSeed, multinomial, ones, rand, randint, randn,
  randperm, scalar, tensor, zeros, zerosLike, type DType,
} from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('from and to JavaScript', () => {
  test('nested arrays infer the shape; ragged arrays are refused', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
    assert.equal(scalar(3.5).item(), 3.5);
    assert.deepEqual(scalar(2).shape, []);
  });
  test('typed arrays round-trip for every dtype', () => {
    const cases: [DType, number[], number[]][] = [
      ['float32', [0.5, -1.25], [0.5, -1.25]],
      ['float64', [1 / 3, 1e-300], [1 / 3, 1e-300]],
      ['float16', [0.5, 65504], [0.5, 65504]],
      ['bfloat16', [1.5, -2], [1.5, -2]],
      ['int64', [2 ** 40 + 1, -7], [2 ** 40 + 1, -7]],
      ['int32', [-(2 ** 31), 5], [-(2 ** 31), 5]],
      ['uint8', [0, 255], [0, 255]],
      ['bool', [0, 3], [0, 1]],
    ];
    for (const [dtype, values, expected] of cases) {
      const t = tensor(values, { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), expected, dtype);
    }
    const big = tensor(new BigInt64Array([2n ** 62n, -3n]));
    assert.equal(big.dtype, 'int64');
    assert.deepEqual(Array.from(big.data() as BigInt64Array), [2n ** 62n, -3n]);
    const f = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(f, { shape: [3, 2] });
    f[0] = 100; // the tensor holds its own copy
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
    assert.ok(t.data() instanceof Float32Array);
    assert.ok(tensor([1], { dtype: 'float16' }).data() instanceof Float32Array);
    // A view of part of a buffer (byteOffset) is read from the right place.
    const window = new Float32Array(new Float32Array([9, 8, 7, 6]).buffer, 4, 2);
    assert.deepEqual(tensor(window).toArray(), [8, 7]);
  });
  test('raw bytes: native little-endian layout, every dtype', () => {
    assert.deepEqual([...tensor([1]).toBytes()], [0, 0, 0x80, 0x3f]); // 1.0f = 0x3f800000
    assert.deepEqual([...tensor([1], { dtype: 'float16' }).toBytes()], [0x00, 0x3c]);
    for (const dtype of ['float32', 'float16', 'bfloat16', 'int64', 'uint8', 'bool'] as DType[]) {
      const t = tensor([[1, 0], [2, 3]], { dtype });
      const back = fromBytes(t.toBytes(), [2, 2], dtype);
      assert.equal(back.dtype, dtype);
      assert.ok(back.equal(t), dtype);
    }
    assert.throws(() => fromBytes(new Uint8Array(3), [1], 'float32'), /3 bytes, expected 4/);
  });
  test('transposed (non-contiguous) tensors read row-major', () => {
    assert.deepEqual(tensor([[1, 2], [3, 4]]).transpose(0, 1).toArray(), [[1, 3], [2, 4]]);
  });
});

describe('constructors', () => {
  test('constants and ranges', () => {
    assert.deepEqual(zeros([2, 2], { dtype: 'int32' }).toArray(), [[0, 0], [0, 0]]);
    assert.deepEqual(ones(3).toArray(), [1, 1, 1]);
    assert.deepEqual(full([2], 7).toArray(), [7, 7]);
    assert.equal(full([2], 7, { dtype: 'int64' }).dtype, 'int64');
    assert.deepEqual(empty([2, 0]).shape, [2, 0]);
    assert.deepEqual(zerosLike(ones([2, 3], { dtype: 'float64' })).dtype, 'float64');
    const r = arange(5);
    assert.equal(r.dtype, 'int64');
    assert.deepEqual(r.toArray(), [0, 1, 2, 3, 4]);
    assert.equal(arange(0, 1, 0.25).dtype, 'float32');
    assertClose(arange(0, 1, 0.25).toArray(), [0, 0.25, 0.5, 0.75]);
    assertClose(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  });
});

describe('random', () => {
  test('the global seed makes draws repeat', () => {
    manualSeed(42);
    const a = randn([5]).toArray();
    manualSeed(42);
    assert.deepEqual(randn([5]).toArray(), a);
    assert.notDeepEqual(randn([5]).toArray(), a);
  });
  test('a Generator is reproducible and independent of the global seed', () => {
    const a = rand([4], { generator: new Generator(7) }).toArray();
    manualSeed(1);
    const b = rand([4], { generator: new Generator(7) }).toArray();
    assert.deepEqual(a, b);
    const g = new Generator(7);
    const first = rand([4], { generator: g }).toArray();
    assert.deepEqual(first, a);
    assert.notDeepEqual(rand([4], { generator: g }).toArray(), a); // the generator advances
  });
  test('distributions have the right support and moments', () => {
    const g = new Generator(3);
    const n = randn([20000], { generator: g });
    assert.ok(Math.abs(n.mean().item()) < 0.03);
    assert.ok(Math.abs(n.std().item() - 1) < 0.03);
    const u = rand([20000], { generator: g });
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    assert.ok(Math.abs(u.mean().item() - 0.5) < 0.01);
    const i = randint(3, 7, [1000], { generator: g });
    assert.equal(i.dtype, 'int64');
    assert.ok(i.min().item() === 3 && i.max().item() === 6);
    const p = randperm(50, { generator: g });
    assert.deepEqual([...(p.sort()[0].toArray() as number[])], Array.from({ length: 50 }, (_, k) => k));
    const b = bernoulli(zeros([1000]), 0.25, g);
    assert.ok(Math.abs(b.mean().item() - 0.25) < 0.05);
    assert.deepEqual(bernoulli(tensor([0, 1, 0, 1]), undefined, g).toArray(), [0, 1, 0, 1]);
    const counts = multinomial(tensor([0, 1, 0]), 4, true, g).toArray();
    assert.deepEqual(counts, [1, 1, 1, 1]);
  });
  test('in-place initialisers: normal, uniform, truncated normal', () => {
    const g = new Generator(5);
    const t = empty([20000]).truncNormal_(0, 1, -0.5, 0.5, g);
    assert.ok(t.min().item() >= -0.5 && t.max().item() <= 0.5);
    assert.ok(Math.abs(t.mean().item()) < 0.02);
    // The truncated standard normal on [-0.5, 0.5] has std 0.2843 (a symmetric-truncation identity).
    assert.ok(Math.abs(t.std().item() - 0.2843) < 0.01);
    const n = empty([20000]).normal_(3, 0.5, g);
    assert.ok(Math.abs(n.mean().item() - 3) < 0.02 && Math.abs(n.std().item() - 0.5) < 0.02);
    const u = empty([20000]).uniform_(-2, 2, g);
    assert.ok(u.min().item() >= -2 && u.max().item() < 2);
  });
});
