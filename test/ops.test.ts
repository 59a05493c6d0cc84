// Op values against hand-worked small cases (not against the addon itself).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  adaptiveAvgPool2d, attentionWithWeights, avgPool2d, batchNorm, bceWithLogits, cat, conv2d, convTranspose2d, cosineSimilarity,
  crossEntropy, einsum, fold, groupNorm, interpolate, klDiv, l1Loss, layerNorm, linear, maxPool2d, mseLoss, normalize, ones, pad,
  smoothL1Loss, stack, tensor, unfold, where, zeros, arange,
} from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

const m = [[1, 2], [3, 4]];
const ln = Math.log;

describe('elementwise', () => {
  test('broadcasting arithmetic', () => {
    assertClose(tensor([[1], [2]]).add(tensor([10, 20])).toArray(), [[11, 21], [12, 22]]);
    assertClose(tensor([1, 2, 3]).add(tensor([1, 1, 1]), 2).toArray(), [3, 4, 5]);
    assertClose(tensor([5, 6]).sub(1).toArray(), [4, 5]);
    assertClose(tensor([1, 2]).rsub(10).toArray(), [9, 8]);
    assertClose(tensor([1, 2]).mul(tensor([3, 4])).toArray(), [3, 8]);
    assertClose(tensor([1, 3]).div(2).toArray(), [0.5, 1.5]);
    assertClose(tensor([2, 3]).pow(2).toArray(), [4, 9]);
    assertClose(tensor([1, 3]).rpow(2).toArray(), [2, 8]);
    assertClose(tensor([-3.5, 7]).remainder(3).toArray(), [2.5, 1]);
    assertClose(tensor([-7, 7]).floorDivide(2).toArray(), [-4, 3]);
  });
  test('integer numbers keep integer dtypes; true division promotes', () => {
    const i = tensor([1, 2], { dtype: 'int64' });
    assert.equal(i.add(1).dtype, 'int64');
    assert.equal(i.add(0.5).dtype, 'float32');
    assert.equal(i.div(2).dtype, 'float32');
    assertClose(i.div(2).toArray(), [0.5, 1]);
  });
  test('unary math', () => {
    assertClose(tensor([1, 4]).sqrt().toArray(), [1, 2]);
    assertClose(tensor([0, 1]).exp().toArray(), [1, Math.E]);
    assertClose(tensor([1, Math.E]).log().toArray(), [0, 1]);
    assertClose(tensor([-2, 3]).abs().toArray(), [2, 3]);
    assertClose(tensor([0]).sigmoid().toArray(), [0.5]);
    assertClose(tensor([-1, 0, 2]).relu().toArray(), [0, 0, 2]);
    assertClose(tensor([1]).gelu().toArray(), [0.8413447]);   // x * Phi(x)
    assertClose(tensor([1]).silu().toArray(), [0.7310586]);   // x * sigmoid(x)
    assertClose(tensor([-2, 2]).leakyRelu(0.1).toArray(), [-0.2, 2]);
    assertClose(tensor([0]).softplus().toArray(), [ln(2)]);
    assertClose(tensor([-1.5, 0.2, 3]).clamp(-1, 1).toArray(), [-1, 0.2, 1]);
    assertClose(tensor([-1.5, 3]).clamp(0).toArray(), [0, 3]);
    assertClose(tensor([0, 10]).lerp(tensor([10, 20]), 0.25).toArray(), [2.5, 12.5]);
    assertClose(tensor([1]).addcmul(tensor([2]), tensor([3]), 0.5).toArray(), [4]);
    assertClose(tensor([1]).addcdiv(tensor([2]), tensor([4]), 2).toArray(), [2]);
    assertClose(tensor([NaN, Infinity, 1]).nanToNum(0, 5).toArray(), [0, 5, 1]);
  });
  test('comparisons, logic, where and masks', () => {
    assert.deepEqual(tensor([1, 2, 3]).gt(2).toArray(), [0, 0, 1]);
    assert.equal(tensor([1, 2]).eq(tensor([1, 3])).dtype, 'bool');
    assert.deepEqual(tensor([1, 2]).eq(tensor([1, 3])).toArray(), [1, 0]);
    assert.deepEqual(tensor([NaN, 1]).isnan().toArray(), [1, 0]);
    const mask = tensor([1, 0, 1], { dtype: 'bool' });
    assert.deepEqual(mask.logicalNot().toArray(), [0, 1, 0]);
    assertClose(where(mask, tensor([1, 2, 3]), -1).toArray(), [1, -1, 3]);
    assertClose(tensor([1, 2, 3]).maskedFill(mask, 9).toArray(), [9, 2, 9]);
    assert.ok(tensor([1, 2]).allclose(tensor([1, 2.000001])));
    assert.ok(!tensor([1, 2]).equal(tensor([1, 3])));
  });
});

describe('reductions', () => {
  test('sum, mean, prod, var, std', () => {
    const t = tensor(m);
    assert.equal(t.sum().item(), 10);
    assertClose(t.sum(0).toArray(), [4, 6]);
    assertClose(t.sum(1, true).toArray(), [[3], [7]]);
    assertClose(t.mean(1).toArray(), [1.5, 3.5]);
    assert.equal(t.prod().item(), 24);
    assertClose(t.var().item(), 5 / 3);             // unbiased: sum((x-2.5)^2)/3
    assertClose(t.var(undefined, false).item(), 1.25);
    assertClose(t.std(1).toArray(), [Math.SQRT1_2, Math.SQRT1_2]);
    assertClose(t.cumsum(1).toArray(), [[1, 3], [3, 7]]);
    assert.equal(tensor([1, 2], { dtype: 'int32' }).sum(undefined, false, 'float64').dtype, 'float64');
  });
  test('max, argmax, logsumexp, norms', () => {
    const t = tensor([[1, 5, 2], [7, 0, 3]]);
    assert.equal(t.max().item(), 7);
    assert.equal(t.min().item(), 0);
    const [values, indices] = t.maxDim(1);
    assertClose(values.toArray(), [5, 7]);
    assert.deepEqual(indices.toArray(), [1, 0]);
    assert.deepEqual(t.argmax(1).toArray(), [1, 0]);
    assert.equal(t.argmax().item(), 3);
    assertClose(t.amin(0).toArray(), [1, 0, 2]);
    assertClose(tensor([0, ln(3)]).logsumexp(0).item(), ln(4));
    assertClose(tensor([3, -4]).norm().item(), 5);
    assertClose(tensor([3, -4]).norm(1).item(), 7);
    assertClose(tensor([3, -4]).norm(Infinity).item(), 4);
    assertClose(tensor([[3, 4], [6, 8]]).norm(2, 1).toArray(), [5, 10]);
    assert.equal(tensor([0, 1], { dtype: 'bool' }).any().item(), 1);
    assert.equal(tensor([0, 1], { dtype: 'bool' }).all().item(), 0);
  });
});

describe('products', () => {
  test('matmul, mm, bmm, einsum, outer, linear', () => {
    const a = tensor(m);
    const b = tensor([[5, 6], [7, 8]]);
    assertClose(a.matmul(b).toArray(), [[19, 22], [43, 50]]);
    assertClose(a.mm(b).toArray(), [[19, 22], [43, 50]]);
    assertClose(stack([a, b]).bmm(stack([b, a])).toArray(), [[[19, 22], [43, 50]], [[23, 34], [31, 46]]]);
    assertClose(einsum('ii->', a).item(), 5);
    assertClose(einsum('ij,jk->ik', a, b).toArray(), [[19, 22], [43, 50]]);
    assertClose(tensor([1, 2]).outer(tensor([3, 4, 5])).toArray(), [[3, 4, 5], [6, 8, 10]]);
    // x W^T + b
    assertClose(linear(tensor([[1, 1]]), a, tensor([10, 20])).toArray(), [[13, 27]]);
    assertClose(a.T.toArray(), [[1, 3], [2, 4]]);
  });
  test('normalize, cosine similarity', () => {
    assertClose(normalize(tensor([[3, 4]])).toArray(), [[0.6, 0.8]]);
    assertClose(normalize(tensor([[0, 0]])).toArray(), [[0, 0]]); // eps keeps zero vectors finite
    assertClose(cosineSimilarity(tensor([[1, 0]]), tensor([[1, 1]])).toArray(), [Math.SQRT1_2]);
  });
  test('attention: softmax(q k^T * scale) v, weights returned', () => {
    const [out, weights] = attentionWithWeights(tensor([[1, 0]]), tensor([[1, 0], [0, 1]]), tensor([[1, 2], [3, 4]]), { scale: 1 });
    const p = Math.E / (Math.E + 1);
    assertClose(weights.toArray(), [[p, 1 - p]]);
    assertClose(out.toArray(), [[p * 1 + (1 - p) * 3, p * 2 + (1 - p) * 4]]);
    // A causal mask hides later keys: the first query sees only the first value.
    const [causal] = attentionWithWeights(tensor([[0], [0]]), tensor([[0], [0]]), tensor([[1], [3]]), { causal: true });
    assertClose(causal.toArray(), [[1], [2]]);
  });
});

describe('layers', () => {
  const grid = (n: number) => arange(1, n * n + 1, 1, { dtype: 'float32' }).view(1, 1, n, n);
  test('conv2d and its transpose', () => {
    assertClose(conv2d(grid(3), ones([1, 1, 2, 2]), tensor([1])).toArray(), [[[[13, 17], [25, 29]]]]);
    assertClose(conv2d(grid(3), ones([1, 1, 3, 3]), null, { padding: 1, stride: 2 }).toArray(), [[[[12, 16], [24, 28]]]]);
    assertClose(convTranspose2d(grid(2), ones([1, 1, 2, 2]), null, { stride: 2 }).toArray(),
      [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
  });
  test('pooling', () => {
    assertClose(maxPool2d(grid(4), 2).toArray(), [[[[6, 8], [14, 16]]]]);
    assertClose(avgPool2d(grid(4), 2).toArray(), [[[[3.5, 5.5], [11.5, 13.5]]]]);
    assertClose(adaptiveAvgPool2d(grid(4), 1).toArray(), [[[[8.5]]]]);
  });
  test('batch norm: batch statistics in training, running statistics updated', () => {
    const runningMean = zeros([1]);
    const runningVar = ones([1]);
    const y = batchNorm(tensor([[1], [3]]), { runningMean, runningVar, training: true, eps: 0 });
    assertClose(y.toArray(), [[-1], [1]]);
    assertClose(runningMean.toArray(), [0.2]);        // 0.9 * 0 + 0.1 * 2
    assertClose(runningVar.toArray(), [1.1]);         // 0.9 * 1 + 0.1 * 2 (unbiased)
    const evalY = batchNorm(tensor([[2.2]]), { runningMean, runningVar, weight: tensor([2]), bias: tensor([1]), training: false, eps: 0 });
    assertClose(evalY.toArray(), [[2 * 2 / Math.sqrt(1.1) + 1]]);
  });
  test('layer norm and group norm', () => {
    const s = Math.sqrt(1.5);
    assertClose(layerNorm(tensor([[1, 2, 3]]), 3, null, null, 0).toArray(), [[-s, 0, s]]);
    assertClose(groupNorm(tensor([[1, 3, 10, 20]]).view(1, 4, 1), 2, null, null, 0).toArray(), [[[-1], [1], [-1], [1]]]);
  });
  test('softmax and log-softmax', () => {
    assertClose(tensor([0, ln(2)]).softmax(0).toArray(), [1 / 3, 2 / 3]);
    assertClose(tensor([0, ln(2)]).logSoftmax(0).toArray(), [ln(1 / 3), ln(2 / 3)]);
  });
  test('interpolate', () => {
    assertClose(interpolate(grid(2), 4, 'nearest').toArray(), [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
    assertClose(interpolate(tensor([0, 1]).view(1, 1, 1, 2), [1, 3], 'bilinear', true).toArray(), [[[[0, 0.5, 1]]]]);
    assertClose(interpolate(tensor([0, 1]).view(1, 1, 1, 2), [1, 4], 'bilinear').toArray(), [[[[0, 0.25, 0.75, 1]]]]);
    // Bicubic weights sum to one (constants stay constant); with aligned corners the corners are kept.
    assertClose(interpolate(ones([1, 1, 3, 3]).mul(5), [5, 7], 'bicubic').toArray(), ones([1, 1, 5, 7]).mul(5).toArray());
    const up = interpolate(grid(3), 5, 'bicubic', true);
    assertClose([up.select(2, 0).select(2, 0).item(), up.select(2, 4).select(2, 4).item()], [1, 9]);
  });
  test('pad', () => {
    const row = tensor([1, 2, 3]).view(1, 1, 1, 3);
    assertClose(pad(row, [1, 1], 'constant', 0).toArray(), [[[[0, 1, 2, 3, 0]]]]);
    assertClose(pad(row, [1, 1, 0, 0], 'reflect').toArray(), [[[[2, 1, 2, 3, 2]]]]);
    assertClose(pad(row, [1, 1, 0, 0], 'replicate').toArray(), [[[[1, 1, 2, 3, 3]]]]);
  });
  test('unfold patchifies and fold puts the patches back', () => {
    const x = arange(0, 16, 1, { dtype: 'float32' }).view(1, 1, 4, 4);
    const patches = unfold(x, 2, { stride: 2 }); // [1, 4, 4]: one column per 2x2 patch
    assert.deepEqual(patches.shape, [1, 4, 4]);
    assertClose(patches.select(2, 0).toArray(), [[0, 1, 4, 5]]);
    assertClose(patches.select(2, 3).toArray(), [[10, 11, 14, 15]]);
    assertClose(fold(patches, 4, 2, { stride: 2 }).toArray(), x.toArray());
  });
});

describe('losses', () => {
  test('cross-entropy: indices, label smoothing, soft targets, ignore index, weights', () => {
    const idx = (v: number[]) => tensor(v, { dtype: 'int64' });
    assertClose(crossEntropy(tensor([[0, 0]]), idx([1])).item(), ln(2));
    // p = [1/4, 3/4]; smoothed target = 0.9 * onehot + 0.1 / 2
    const logits = tensor([[0, ln(3)]]);
    assertClose(crossEntropy(logits, idx([1]), { labelSmoothing: 0.1 }).item(), -(0.05 * ln(0.25) + 0.95 * ln(0.75)));
    assertClose(crossEntropy(logits, tensor([[0.5, 0.5]])).item(), -(0.5 * ln(0.25) + 0.5 * ln(0.75)));
    assertClose(crossEntropy(tensor([[0, ln(3)], [5, 5]]), idx([1, -100])).item(), -ln(0.75));
    // weighted mean: sum(w_i * l_i) / sum(w_i)
    const two = crossEntropy(tensor([[0, ln(3)], [0, ln(3)]]), idx([0, 1]), { weight: tensor([1, 3]) });
    assertClose(two.item(), (1 * -ln(0.25) + 3 * -ln(0.75)) / 4);
    assertClose(crossEntropy(tensor([[0, 0], [0, 0]]), idx([0, 1]), { reduction: 'none' }).toArray(), [ln(2), ln(2)]);
  });
  test('regression and binary losses', () => {
    assertClose(mseLoss(tensor([1, 2]), zeros([2])).item(), 2.5);
    assertClose(l1Loss(tensor([1, -2]), zeros([2])).item(), 1.5);
    assertClose(smoothL1Loss(tensor([0.5, 2]), zeros([2])).item(), (0.125 + 1.5) / 2);
    assertClose(bceWithLogits(tensor([0]), tensor([1])).item(), ln(2));
    // KL(q || p) with p = softmax input
    const p = [0.25, 0.75];
    const q = [0.5, 0.5];
    assertClose(klDiv(tensor([p.map(ln)]), tensor([q]), 'sum').item(), q[0] * ln(q[0] / p[0]) + q[1] * ln(q[1] / p[1]));
  });
});

describe('shape and indexing', () => {
  test('views and joins', () => {
    const t = arange(0, 6, 1).view(2, 3);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.permute(1, 0).toArray(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(t.flatten().toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(t.unsqueeze(0).shape, [1, 2, 3]);
    assert.deepEqual(t.slice(1, 1).toArray(), [[1, 2], [4, 5]]);
    assert.deepEqual(t.slice(1, -1).toArray(), [[2], [5]]);
    assert.deepEqual(t.select(0, 1).toArray(), [3, 4, 5]);
    assert.deepEqual(t.flip(1).toArray(), [[2, 1, 0], [5, 4, 3]]);
    assert.deepEqual(t.split(2, 1).map((p) => p.shape), [[2, 2], [2, 1]]);
    assert.deepEqual(t.chunk(2, 0)[1].toArray(), [[3, 4, 5]]);
    assert.deepEqual(cat([t, t], 1).shape, [2, 6]);
    assert.deepEqual(stack([t, t]).shape, [2, 2, 3]);
    assert.deepEqual(t.expand(2, 2, 3).shape, [2, 2, 3]);
    assert.deepEqual(tensor([1, 2]).repeat(2).toArray(), [1, 2, 1, 2]);
    assert.deepEqual(tensor([1, 2]).repeatInterleave(2).toArray(), [1, 1, 2, 2]);
    assert.deepEqual(t.tril().toArray(), [[0, 0, 0], [3, 4, 0]]);
    assert.deepEqual(t.strides, [3, 1]);
    assert.deepEqual(t.transpose(0, 1).strides, [1, 3]); // a view: same memory, swapped strides
    assert.ok(!t.transpose(0, 1).isContiguous());
    assert.ok(t.transpose(0, 1).contiguous().isContiguous());
  });
  test('gather, scatter, index, sort, topk, one-hot', () => {
    const idx = (v: number[] | number[][]) => tensor(v, { dtype: 'int64' });
    assert.deepEqual(tensor([[1, 2], [3, 4]]).gather(1, idx([[1], [0]])).toArray(), [[2], [3]]);
    assert.deepEqual(zeros([3]).scatter(0, idx([2, 0]), tensor([5, 7])).toArray(), [7, 0, 5]);
    assert.deepEqual(zeros([3]).scatterAdd(0, idx([1, 1]), tensor([1, 2])).toArray(), [0, 3, 0]);
    assert.deepEqual(zeros([2]).scatterReduce(0, idx([0, 0, 1]), tensor([2, 5, 1]), 'amax', false).toArray(), [5, 1]);
    assert.deepEqual(tensor([10, 20, 30]).indexSelect(0, idx([2, 0])).toArray(), [30, 10]);
    assert.deepEqual(tensor(m).index([idx([1, 0]), idx([0, 1])]).toArray(), [3, 2]);
    assert.deepEqual(zeros([3]).indexPut([idx([1, 1])], tensor([2, 3]), true).toArray(), [0, 5, 0]);
    const [sorted, order] = tensor([3, 1, 2]).sort();
    assert.deepEqual(sorted.toArray(), [1, 2, 3]);
    assert.deepEqual(order.toArray(), [1, 2, 0]);
    assert.deepEqual(tensor([3, 1, 2]).argsort(0, true).toArray(), [0, 2, 1]);
    const [top, where2] = tensor([3, 1, 2]).topk(2);
    assert.deepEqual(top.toArray(), [3, 2]);
    assert.deepEqual(where2.toArray(), [0, 2]);
    assert.deepEqual(idx([0, 2]).oneHot(3).toArray(), [[1, 0, 0], [0, 0, 1]]);
    assert.deepEqual(tensor([1, 0, 2]).nonzero().toArray(), [[0], [2]]);
    assert.deepEqual(tensor([1, 5, 2]).maskedSelect(tensor([1, 0, 1], { dtype: 'bool' })).toArray(), [1, 2]);
  });
});
