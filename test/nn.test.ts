// nn: Module bookkeeping, state dicts, cloning, and layers against the functional ops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BatchNorm1d, BatchNorm2d, Conv2d, DropPath, Dropout, GELU, GroupNorm, Identity, LayerNorm, Linear, MLP, Module,
  MultiheadSelfAttention, ReLU, Sequential, init,
} from '../src/nn/index.js';
import { Generator, Tensor, attention, cat, liveTensors, manualSeed, ones, randn, tensor, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

class Net extends Module {
  readonly body = this.registerModule('body', new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2)));
  readonly norm = this.registerModule('norm', new BatchNorm1d(2));
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.body.forward(x));
  }
}

describe('Module', () => {
  test('named parameters and buffers use PyTorch-style dotted names', () => {
    const net = new Net();
    assert.deepEqual(net.namedParameters().map(([k]) => k), ['body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias', 'norm.weight', 'norm.bias']);
    assert.deepEqual(net.namedBuffers().map(([k]) => k), ['norm.running_mean', 'norm.running_var', 'norm.num_batches_tracked']);
    assert.equal(net.parameterCount(), 4 * 8 + 8 + 8 * 2 + 2 + 2 + 2);
    assert.ok(net.parameters().every((p) => p.requiresGrad));
    assert.deepEqual(net.namedModules().map(([k]) => k), ['', 'body', 'body.0', 'body.1', 'body.2', 'norm']);
  });
  test('parameter groups: no weight decay on biases and norm parameters; frozen ones left out', () => {
    const net = new Net();
    const [decay, noDecay] = net.parameterGroups(0.05);
    assert.deepEqual(decay.names, ['body.0.weight', 'body.2.weight']);
    assert.equal(decay.weightDecay, 0.05);
    assert.deepEqual(noDecay.names, ['body.0.bias', 'body.2.bias', 'norm.weight', 'norm.bias']);
    assert.equal(noDecay.weightDecay, 0);
    net.norm.requiresGrad_(false);
    assert.deepEqual(net.parameterGroups(0.05)[1].names, ['body.0.bias', 'body.2.bias']);
  });
  test('train/eval reaches every descendant; freezing a sub-tree', () => {
    const net = new Net().eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok(net.norm.training);
    net.body.requiresGrad_(false);
    assert.equal(net.parameterCount(false), 4);
    assert.equal(net.parameterCount(), 4 * 8 + 8 + 8 * 2 + 2 + 4);
  });
  test('stateDict / loadStateDict round-trip; strict and non-strict reports', () => {
    const a = new Net();
    const b = new Net();
    const x = randn([5, 4]);
    a.eval();
    b.eval();
    assert.ok(!a.forward(x).allclose(b.forward(x)));
    const report = b.loadStateDict(a.stateDict());
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    assert.ok(a.forward(x).allclose(b.forward(x)));

    const partial = a.stateDict();
    partial.delete('norm.bias');
    partial.set('extra.weight', ones([1]));
    partial.set('body.0.weight', ones([3, 3]));
    assert.throws(() => b.loadStateDict(partial), (e: Error) =>
      /3 key\(s\) do not match/.test(e.message) && /missing: norm\.bias/.test(e.message) &&
      /unexpected: extra\.weight/.test(e.message) && /shape of body\.0\.weight: expected \[8, 4\], got \[3, 3\]/.test(e.message));
    const loose = b.loadStateDict(partial, { strict: false });
    assert.deepEqual(loose.missing, ['norm.bias']);
    assert.deepEqual(loose.unexpected, ['extra.weight']);
    assert.equal(loose.mismatched[0].key, 'body.0.weight');
  });
  test('clone() is a deep copy: same outputs, independent parameters', () => {
    const net = new Net().eval();
    const copy = net.clone();
    assert.ok(copy instanceof Net);
    const x = randn([3, 4]);
    assert.ok(net.forward(x).allclose(copy.forward(x)));
    assert.notEqual(copy.body.layers[0], net.body.layers[0]);
    assert.equal(copy.namedParameters()[0][1], (copy.body.layers[0] as Linear).weight, 'fields and registries point at the same copy');
    init.constant_((copy.body.layers[0] as Linear).weight, 0);
    assert.ok(!net.forward(x).allclose(copy.forward(x)), 'changing the copy leaves the original');
    assert.ok(copy.parameters().every((p) => p.requiresGrad));
  });
  test('registering twice or with a dotted name is refused; dispose frees all', () => {
    class Bad extends Module {
      constructor(name: string) { super(); this.registerParameter(name, ones([1])); this.registerParameter('w', ones([1])); }
    }
    assert.throws(() => new Bad('w'), /'w' is already registered/);
    assert.throws(() => new Bad('a.b'), /invalid name 'a.b'/);
    const before = liveTensors();
    const net = new Net();
    assert.equal(liveTensors(), before + 9);
    net.dispose();
    assert.equal(liveTensors(), before);
  });
});

describe('layers', () => {
  test('Linear and Conv2d use PyTorch default init bounds and compute x W^T + b', () => {
    const fc = new Linear(100, 50, { generator: new Generator(1) });
    assert.ok(fc.weight.abs().max().item() <= 0.1 && fc.bias!.abs().max().item() <= 0.1);
    assert.ok(fc.weight.std().item() > 0.05, 'uniform in ±1/sqrt(100) has std 0.0577');
    const small = new Linear(2, 1);
    init.constant_(small.weight, 2);
    init.constant_(small.bias!, 1);
    assertClose(small.forward(tensor([[1, 3]])).toArray(), [[9]]);
    const conv = new Conv2d(4, 6, 3, { padding: 1, groups: 2 });
    assert.deepEqual(conv.weight.shape, [6, 2, 3, 3]);
    assert.deepEqual(conv.forward(randn([1, 4, 5, 5])).shape, [1, 6, 5, 5]);
    assert.throws(() => new Conv2d(3, 6, 3, { groups: 2 }), /not divisible by groups=2/);
  });
  test('BatchNorm: batch statistics and running updates in training, running statistics in eval', () => {
    const bn = new BatchNorm1d(1, { eps: 0 });
    assertClose(bn.forward(tensor([[1], [3]])).toArray(), [[-1], [1]]);
    assertClose(bn.runningMean!.toArray(), [0.2]);
    assertClose(bn.runningVar!.toArray(), [1.1]);
    assert.equal(bn.numBatchesTracked!.item(), 1);
    bn.eval();
    assertClose(bn.forward(tensor([[0.2]])).toArray(), [[0]]);
    assert.equal(bn.numBatchesTracked!.item(), 1);
    assert.throws(() => new BatchNorm2d(3).forward(ones([2, 3])), /expected a 4-D input/);
  });
  test('LayerNorm, GroupNorm, Identity, GELU', () => {
    const s = Math.sqrt(1.5);
    assertClose(new LayerNorm(3, { eps: 0 }).forward(tensor([[1, 2, 3]])).toArray(), [[-s, 0, s]]);
    assertClose(new GroupNorm(2, 4, { eps: 0 }).forward(tensor([[1, 3, 10, 20]]).view(1, 4, 1)).toArray(), [[[-1], [1], [-1], [1]]]);
    const x = ones([2]);
    assert.equal(new Identity().forward(x), x);
    assertClose(new GELU().forward(tensor([1])).toArray(), [0.8413447]);
  });
  test('Dropout and DropPath act in training only; DropPath drops whole samples', () => {
    manualSeed(0);
    const x = ones([64, 3, 2]);
    const drop = new Dropout(0.5);
    const y = drop.forward(x);
    const values = new Set((y.flatten().toArray() as number[]));
    assert.deepEqual([...values].sort(), [0, 2]);
    assert.ok(drop.eval().forward(x).equal(x));
    const dp = new DropPath(0.5);
    const z = dp.forward(x);
    const perSample = z.sum([1, 2]).toArray() as number[];
    assert.ok(perSample.every((v) => v === 0 || v === 12), 'a sample is dropped whole or kept whole (x2)');
    assert.ok(perSample.some((v) => v === 0) && perSample.some((v) => v === 12));
    assert.equal(dp.eval().forward(x), x);
    assert.throws(() => new Dropout(1), /probability/);
  });
  test('MLP: SimCLR-style projection head structure', () => {
    const head = new MLP([16, 32, 8], { norm: 'batch' });
    assert.deepEqual(head.namedParameters().map(([k, p]) => `${k}:${p.shape.join('x')}`),
      ['layers.0.weight:32x16', 'layers.1.weight:32', 'layers.1.bias:32', 'layers.3.weight:8x32', 'layers.3.bias:8']);
    assert.deepEqual(head.forward(randn([4, 16])).shape, [4, 8]);
    const withLast = new MLP([16, 8], { norm: 'batch', lastNorm: true });
    assert.equal(withLast.namedParameters().length, 1, 'affine-free last BN, no bias before it');
  });
  test('MultiheadSelfAttention equals per-head attention with its own projections', () => {
    const attn = new MultiheadSelfAttention(8, 2, { generator: new Generator(3) }).eval();
    const x = randn([2, 5, 8], { generator: new Generator(4) });
    const [y, weights] = attn.forwardWithWeights(x);
    assert.deepEqual(y.shape, [2, 5, 8]);
    assert.deepEqual(weights.shape, [2, 2, 5, 5]);
    assertClose(weights.sum(-1).toArray(), ones([2, 2, 5]).toArray());
    const expected = tidy(() => {
      const qkv = attn.qkv.forward(x); // [2, 5, 24]
      const heads = [0, 1].map((h) => {
        const pick = (i: number) => qkv.narrow(2, i * 8 + h * 4, 4);
        return attention(pick(0), pick(1), pick(2));
      });
      return attn.proj.forward(cat(heads, -1)); // heads side by side: [2, 5, 8]
    });
    assert.ok(y.allclose(expected, 1e-5, 1e-5));
    assert.ok(attn.forward(x).allclose(y, 1e-6, 1e-6));
  });
  test('MultiheadSelfAttention.forwardQueries gives the asking tokens\' rows of forward, and the same gradients', () => {
    const attn = new MultiheadSelfAttention(8, 2, { generator: new Generator(5) });
    const rows = tensor([4, 1, 3], { dtype: 'int64' }); // out of order, as a gather may ask
    const gradients = (outputs: (x: Tensor) => Tensor) => tidy(() => {
      attn.zeroGrad();
      const x = randn([2, 6, 8], { generator: new Generator(6) }).requiresGrad_(true);
      const y = outputs(x);
      y.mul(randn(y.shape, { generator: new Generator(7) })).sum().backward();
      return [y, x.grad!, ...attn.parameters().map((p) => p.grad!)].map((t) => t.flatten().toArray() as number[]);
    });
    const full = gradients((x) => attn.forward(x).indexSelect(1, rows));
    const picked = gradients((x) => attn.forwardQueries(x, x.indexSelect(1, rows)));
    assert.equal(picked[0].length, 2 * 3 * 8);
    full.forEach((expected, i) => assertClose(picked[i], expected, 1e-5));
    assert.ok(picked[1].slice(0, 8).some((g) => g !== 0), 'token 0, which does not ask, still gets gradients as a key and a value');
  });
});
