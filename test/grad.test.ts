// Every op with a backward, checked against central finite differences in float64.
import { describe, test } from 'node:test';
import {
  type Tensor, adaptiveAvgPool2d, adaptiveMaxPool2d, addmm, attention, avgPool2d, baddbmm, batchNorm, bceWithLogits, cat, cdist,
  conv2d, convTranspose2d, cosineSimilarity, crossEntropy, dropout, einsum, embedding, fold, groupNorm, interpolate, klDiv, l1Loss,
  layerNorm, linear, manualSeed, maxPool2d, mseLoss, nllLoss, normalize, ones, pad, pixelShuffle, smoothL1Loss, stack, tensor,
  unfold, where, zeros,
} from '../src/tensor/index.js';
import { gradcheck, input } from './helpers/gradcheck.js';

type Case = [name: string, inputs: () => Tensor[], fn: (...xs: Tensor[]) => Tensor | Tensor[]];
const pos = (t: Tensor): Tensor => t.abs().add(0.5); // keeps log/sqrt/div away from 0
const x = (shape: number[], seed = 1) => () => [input(shape, seed)];
const xy = (a: number[], b: number[]) => () => [input(a, 1), input(b, 2)];
const idx = (values: number[], shape?: number[]) => tensor(values, { dtype: 'int64', shape });

const elementwise: Case[] = [
  ['add', xy([2, 3], [3]), (a, b) => a.add(b, 2)],
  ['sub', xy([2, 3], [2, 1]), (a, b) => a.sub(b)],
  ['rsub', x([4]), (a) => a.rsub(3)],
  ['mul', xy([2, 3], [2, 3]), (a, b) => a.mul(b)],
  ['div', () => [input([2, 3], 1), input([2, 3], 2, pos)], (a, b) => a.div(b)],
  ['pow scalar', x([5]), (a) => a.pow(3)],
  ['pow tensor', () => [input([4], 1, pos), input([4], 2)], (a, b) => a.pow(b)],
  ['rpow', x([4]), (a) => a.rpow(2)],
  ['maximum', xy([5], [5]), (a, b) => a.maximum(b)],
  ['minimum', xy([5], [5]), (a, b) => a.minimum(b)],
  ['neg', x([4]), (a) => a.neg()],
  ['abs', x([6]), (a) => a.abs()],
  ['exp', x([4]), (a) => a.exp()],
  ['log', () => [input([4], 1, pos)], (a) => a.log()],
  ['log1p', () => [input([4], 1, pos)], (a) => a.log1p()],
  ['expm1', x([4]), (a) => a.expm1()],
  ['log2', () => [input([4], 1, pos)], (a) => a.log2()],
  ['sqrt', () => [input([4], 1, pos)], (a) => a.sqrt()],
  ['rsqrt', () => [input([4], 1, pos)], (a) => a.rsqrt()],
  ['square', x([4]), (a) => a.square()],
  ['reciprocal', () => [input([4], 1, pos)], (a) => a.reciprocal()],
  ['sin', x([4]), (a) => a.sin()],
  ['cos', x([4]), (a) => a.cos()],
  ['tanh', x([4]), (a) => a.tanh()],
  ['sigmoid', x([4]), (a) => a.sigmoid()],
  ['logSigmoid', x([4]), (a) => a.logSigmoid()],
  ['erf', x([4]), (a) => a.erf()],
  ['clamp', x([8]), (a) => a.clamp(-0.5, 0.7)],
  ['clamp tensor bounds', xy([6], [6]), (a, b) => a.clamp(b, null)],
  ['lerp', () => [input([4], 1), input([4], 2), input([4], 3)], (a, b, w) => a.lerp(b, w)],
  ['addcmul', () => [input([3], 1), input([3], 2), input([3], 3)], (a, b, c) => a.addcmul(b, c, 0.5)],
  ['addcdiv', () => [input([3], 1), input([3], 2), input([3], 3, pos)], (a, b, c) => a.addcdiv(b, c, 0.5)],
  ['maskedFill', x([2, 3]), (a) => a.maskedFill(a.gt(0), 0.25)],
  ['where', xy([2, 3], [2, 3]), (a, b) => where(a.gt(b), a, b.mul(2))],
  ['relu', x([8]), (a) => a.relu()],
  ['gelu', x([6]), (a) => a.gelu()],
  ['gelu tanh', x([6]), (a) => a.gelu('tanh')],
  ['silu', x([6]), (a) => a.silu()],
  ['leakyRelu', x([6]), (a) => a.leakyRelu(0.1)],
  ['elu', x([6]), (a) => a.elu()],
  ['softplus', x([6]), (a) => a.softplus(2)],
  ['hardtanh', x([6]), (a) => a.hardtanh(-0.5, 0.5)],
  ['softmax', x([2, 4]), (a) => a.softmax(1)],
  ['logSoftmax', x([2, 4]), (a) => a.logSoftmax(-1)],
];

const reductions: Case[] = [
  ['sum all', x([2, 3]), (a) => a.sum()],
  ['sum dims keepdim', x([2, 3, 2]), (a) => a.sum([0, 2], true)],
  ['mean', x([2, 3]), (a) => a.mean(1)],
  ['prod', x([2, 3]), (a) => a.prod(1)],
  ['var', x([3, 4]), (a) => a.var(1)],
  ['var biased all', x([3, 4]), (a) => a.var(undefined, false)],
  ['std', x([3, 4]), (a) => a.std(0, true, true)],
  ['max', x([5]), (a) => a.max()],
  ['maxDim', x([3, 4]), (a) => a.maxDim(1)[0]],
  ['minDim', x([3, 4]), (a) => a.minDim(0)[0]],
  ['amax', x([3, 4]), (a) => a.amax(1)],
  ['logsumexp', x([3, 4]), (a) => a.logsumexp(1)],
  ['norm 2', x([3, 4]), (a) => a.norm(2, 1)],
  ['norm 1', x([3, 4]), (a) => a.norm(1)],
  ['norm inf', x([3, 4]), (a) => a.norm(Infinity, 1)],
  ['cumsum', x([2, 4]), (a) => a.cumsum(1)],
];

const products: Case[] = [
  ['matmul', xy([2, 3], [3, 4]), (a, b) => a.matmul(b)],
  ['matmul batched broadcast', xy([2, 2, 3], [3, 2]), (a, b) => a.matmul(b)],
  ['mm', xy([2, 3], [3, 2]), (a, b) => a.mm(b)],
  ['bmm', xy([2, 2, 3], [2, 3, 2]), (a, b) => a.bmm(b)],
  ['outer', xy([3], [2]), (a, b) => a.outer(b)],
  ['einsum', xy([2, 3], [4, 3]), (a, b) => einsum('nc,mc->nm', a, b)],
  ['linear', () => [input([2, 3], 1), input([4, 3], 2), input([4], 3)], (a, w, b) => linear(a, w, b)],
  ['addmm', () => [input([2, 2], 1), input([2, 3], 2), input([3, 2], 3)], (c, a, b) => addmm(c, a, b, 0.5, 2)],
  ['baddbmm', () => [input([2, 2, 2], 1), input([2, 2, 3], 2), input([2, 3, 2], 3)], (c, a, b) => baddbmm(c, a, b)],
  ['normalize', x([3, 4]), (a) => normalize(a)],
  ['cosineSimilarity', xy([3, 4], [3, 4]), (a, b) => cosineSimilarity(a, b)],
  ['cdist', xy([3, 2], [4, 2]), (a, b) => cdist(a, b)],
  ['attention', () => [input([1, 2, 3, 4], 1), input([1, 2, 5, 4], 2), input([1, 2, 5, 3], 3)], (q, k, v) => attention(q, k, v)],
  ['attention causal', () => [input([2, 4, 4], 1), input([2, 4, 4], 2), input([2, 4, 4], 3)], (q, k, v) => attention(q, k, v, { causal: true })],
  ['attention bool mask', () => [input([2, 3, 4], 1), input([2, 3, 4], 2), input([2, 3, 4], 3)],
    (q, k, v) => attention(q, k, v, { mask: tensor([[1, 0, 1], [1, 1, 0], [0, 1, 1]], { dtype: 'bool' }) })],
];

const shapes: Case[] = [
  ['view', x([2, 6]), (a) => a.view(3, 4)],
  ['reshape', x([2, 3]), (a) => a.transpose(0, 1).reshape(6)],
  ['permute', x([2, 3, 4]), (a) => a.permute(2, 0, 1)],
  ['expand', x([1, 3]), (a) => a.expand(4, 3)],
  ['repeat', x([2, 2]), (a) => a.repeat(2, 3)],
  ['repeatInterleave', x([2, 2]), (a) => a.repeatInterleave(2, 0)],
  ['flatten', x([2, 3, 2]), (a) => a.flatten(1)],
  ['squeeze unsqueeze', x([2, 1, 3]), (a) => a.squeeze(1).unsqueeze(0)],
  ['narrow', x([4, 3]), (a) => a.narrow(0, 1, 2)],
  ['slice step', x([6, 2]), (a) => a.slice(0, 1, -1, 2)],
  ['select', x([3, 4]), (a) => a.select(1, 2)],
  ['flip', x([2, 3]), (a) => a.flip([0, 1])],
  ['roll', x([2, 3]), (a) => a.roll(1, 1)],
  ['tril', x([3, 3]), (a) => a.tril()],
  ['triu', x([3, 3]), (a) => a.triu(1)],
  ['diagonal', x([3, 3]), (a) => a.diagonal()],
  ['split', x([5, 2]), (a) => a.split([2, 3])],
  ['chunk', x([4, 2]), (a) => a.chunk(2, 0)],
  ['unbind', x([3, 2]), (a) => a.unbind(1)],
  ['unfoldDim', x([6]), (a) => a.unfoldDim(0, 3, 2)],
  ['cat', xy([2, 3], [1, 3]), (a, b) => cat([a, b], 0)],
  ['stack', xy([2, 3], [2, 3]), (a, b) => stack([a, b], 1)],
];

const indexing: Case[] = [
  ['indexSelect', x([4, 3]), (a) => a.indexSelect(0, idx([3, 0, 3]))],
  ['gather', x([3, 4]), (a) => a.gather(1, idx([0, 3, 1, 1, 2, 0], [3, 2]))],
  ['scatter', xy([2, 4], [2, 2]), (a, b) => a.scatter(1, idx([0, 3, 2, 1], [2, 2]), b)],
  ['scatterAdd', xy([2, 3], [2, 2]), (a, b) => a.scatterAdd(1, idx([0, 0, 2, 1], [2, 2]), b)],
  ['indexAdd', xy([4, 2], [2, 2]), (a, b) => a.indexAdd(0, idx([1, 3]), b)],
  ['takeAlongDim', x([2, 3]), (a) => a.takeAlongDim(a.argsort(1), 1)],
  ['maskedSelect', x([2, 3]), (a) => a.maskedSelect(tensor([[1, 0, 1], [0, 1, 1]], { dtype: 'bool' }))],
  ['index', x([3, 4]), (a) => a.index([idx([0, 2]), idx([3, 1])])],
  ['indexPut', xy([3, 2], [2, 2]), (a, b) => a.indexPut([idx([0, 2])], b)],
  ['sort values', x([2, 5]), (a) => a.sort(1, true)[0]],
  ['topk values', x([2, 5]), (a) => a.topk(2, 1)[0]],
  ['embedding', x([5, 3]), (w) => embedding(w, idx([4, 0, 4, 2], [2, 2]))],
];

const layers: Case[] = [
  ['conv2d', () => [input([2, 2, 5, 5], 1), input([3, 2, 3, 3], 2), input([3], 3)], (a, w, b) => conv2d(a, w, b, { padding: 1 })],
  ['conv2d stride dilation', () => [input([1, 2, 7, 7], 1), input([2, 2, 3, 3], 2)], (a, w) => conv2d(a, w, null, { stride: 2, dilation: 2 })],
  ['conv2d groups same', () => [input([1, 4, 4, 4], 1), input([4, 2, 3, 3], 2)], (a, w) => conv2d(a, w, null, { padding: 'same', groups: 2 })],
  ['convTranspose2d', () => [input([1, 2, 3, 3], 1), input([2, 3, 3, 3], 2), input([3], 3)],
    (a, w, b) => convTranspose2d(a, w, b, { stride: 2, padding: 1, outputPadding: 1 })],
  ['maxPool2d', x([1, 2, 4, 4]), (a) => maxPool2d(a, 2)],
  ['maxPool2d padded', x([1, 1, 5, 5]), (a) => maxPool2d(a, 3, { stride: 2, padding: 1 })],
  ['avgPool2d', x([1, 2, 4, 4]), (a) => avgPool2d(a, 2, { stride: 1 })],
  ['adaptiveAvgPool2d', x([1, 2, 5, 5]), (a) => adaptiveAvgPool2d(a, 2)],
  ['adaptiveMaxPool2d', x([1, 2, 4, 4]), (a) => adaptiveMaxPool2d(a, [2, 1])],
  ['batchNorm training', () => [input([4, 3, 2, 2], 1), input([3], 2), input([3], 3)],
    (a, w, b) => batchNorm(a, { weight: w, bias: b, runningMean: zeros([3], { dtype: 'float64' }), runningVar: ones([3], { dtype: 'float64' }), training: true })],
  ['batchNorm eval', () => [input([4, 3], 1), input([3], 2)],
    (a, w) => batchNorm(a, { weight: w, runningMean: tensor([0.5, -1, 0], { dtype: 'float64' }), runningVar: tensor([2, 0.5, 1], { dtype: 'float64' }), training: false })],
  ['layerNorm', () => [input([2, 3, 4], 1), input([4], 2), input([4], 3)], (a, w, b) => layerNorm(a, 4, w, b)],
  ['groupNorm', () => [input([2, 4, 3], 1), input([4], 2), input([4], 3)], (a, w, b) => groupNorm(a, 2, w, b)],
  ['dropout (seeded)', x([20]), (a) => { manualSeed(3); return dropout(a, 0.3, true); }],
  ['interpolate bilinear', x([1, 1, 3, 3]), (a) => interpolate(a, 5, 'bilinear')],
  ['interpolate bicubic align', x([1, 1, 3, 3]), (a) => interpolate(a, [4, 5], 'bicubic', true)],
  ['interpolate nearest', x([1, 2, 2, 2]), (a) => interpolate(a, 4, 'nearest')],
  ['pad constant', x([1, 2, 2]), (a) => pad(a, [1, 2, 0, 1], 'constant', 0.5)],
  ['pad reflect', x([1, 1, 3, 3]), (a) => pad(a, [1, 1, 2, 0], 'reflect')],
  ['pad replicate', x([1, 1, 3, 3]), (a) => pad(a, [2, 0, 1, 1], 'replicate')],
  ['unfold (patchify)', x([1, 2, 4, 4]), (a) => unfold(a, 2, { stride: 2 })],
  ['unfold overlapping', x([1, 1, 4, 4]), (a) => unfold(a, 3, { padding: 1 })],
  ['fold', x([1, 4, 9]), (a) => fold(a, 4, 2, { stride: 1 })],
  ['pixelShuffle', x([1, 4, 2, 2]), (a) => pixelShuffle(a, 2)],
];

const losses: Case[] = [
  ['crossEntropy', x([3, 4]), (a) => crossEntropy(a, idx([0, 3, 1]))],
  ['crossEntropy smoothing weight', x([3, 4]), (a) => crossEntropy(a, idx([2, 3, 1]), { labelSmoothing: 0.1, weight: tensor([1, 2, 0.5, 1], { dtype: 'float64' }) })],
  ['crossEntropy soft targets', xy([3, 4], [3, 4]), (a, t) => crossEntropy(a, t.softmax(1))],
  ['crossEntropy ignoreIndex sum', x([3, 4]), (a) => crossEntropy(a, idx([1, -100, 2]), { reduction: 'sum' })],
  ['nllLoss', x([3, 4]), (a) => nllLoss(a.logSoftmax(1), idx([1, 0, 3]))],
  ['mseLoss', xy([2, 3], [2, 3]), (a, b) => mseLoss(a, b)],
  ['l1Loss', xy([2, 3], [2, 3]), (a, b) => l1Loss(a, b, 'sum')],
  ['smoothL1Loss', xy([2, 3], [2, 3]), (a, b) => smoothL1Loss(a, b, 'mean', 0.5)],
  ['bceWithLogits', xy([2, 3], [2, 3]), (a, t) => bceWithLogits(a, t.sigmoid())],
  ['klDiv', xy([2, 3], [2, 3]), (a, t) => klDiv(a.logSoftmax(1), t.softmax(1), 'batchmean')],
];

for (const [group, cases] of Object.entries({ elementwise, reductions, products, shapes, indexing, layers, losses })) {
  describe(`gradcheck: ${group}`, () => {
    for (const [name, inputs, fn] of cases) test(name, () => gradcheck(fn, inputs()));
  });
}
