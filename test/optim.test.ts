// Optimizers against hand-computed steps and against torch.optim (fixtures made by
// test/fixtures/make_optim_fixtures.py); clipping and schedules against their formulas.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AdamW, LARS, SGD, clipGradNorm, layerDecayGroups, linearWarmup, warmupCosine, type Optimizer } from '../src/optim/index.js';
import { vitTiny } from '../src/models/index.js';
import { type Tensor, liveTensors, tensor, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

const P0 = [[1, 2], [3, 4]];
const G = [[0.1, -0.2], [0.3, 0.4]];
const map2 = (f: (p: number, g: number) => number, p: number[][]) => p.map((row, i) => row.map((v, j) => f(v, G[i][j])));

/** One parameter P0 with gradient G set by hand, stepped `n` times. */
function stepWithFixedGrad(make: (p: Tensor) => Optimizer<{ lr: number; weightDecay: number }>, n: number): number[][] {
  const p = tensor(P0, { dtype: 'float64' }).requiresGrad_();
  const opt = make(p);
  for (let i = 0; i < n; i++) {
    p.grad = tensor(G, { dtype: 'float64' });
    opt.step();
  }
  const out = p.toArray() as number[][];
  opt.dispose();
  p.dispose();
  return out;
}

describe('optimizers: hand-computed steps on a 2x2 problem', () => {
  test('SGD with momentum and weight decay, two steps', () => {
    const d1 = map2((p, g) => g + 0.01 * p, P0);
    const p1 = P0.map((row, i) => row.map((v, j) => v - 0.1 * d1[i][j]));
    const d2 = map2((p, g) => g + 0.01 * p, p1);
    const buf2 = d1.map((row, i) => row.map((v, j) => 0.9 * v + d2[i][j]));
    const p2 = p1.map((row, i) => row.map((v, j) => v - 0.1 * buf2[i][j]));
    assertClose(stepWithFixedGrad((p) => new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), 2), p2, 1e-12);
  });
  test('AdamW: the first step moves each weight by lr against the gradient sign, after decay', () => {
    const expected = map2((p, g) => p * (1 - 0.01 * 0.1) - (0.01 * g) / (Math.abs(g) + 1e-8), P0);
    assertClose(stepWithFixedGrad((p) => new AdamW([p], { lr: 0.01, weightDecay: 0.1 }), 1), expected, 1e-12);
  });
  test('AdamW: a parameter without a gradient keeps its value and gets no state, as torch.optim.AdamW', () => {
    const [a, b] = [tensor([1, 2], { dtype: 'float64' }).requiresGrad_(), tensor([3, 4], { dtype: 'float64' }).requiresGrad_()];
    const opt = new AdamW([a, b], { lr: 0.1, weightDecay: 0.5 });
    a.grad = tensor([1, -1], { dtype: 'float64' });
    opt.step();
    assertClose(b.toArray(), [3, 4], 0);
    assertClose(a.toArray(), [1 * (1 - 0.05) - 0.1, 2 * (1 - 0.05) + 0.1], 1e-7);
    assert.deepEqual([...opt.stateDict().tensors.keys()].sort(), ['0.m', '0.step', '0.v']);
    opt.zeroGrad();
    assert.equal(a.grad, null);
    opt.dispose();
  });
  test('LARS: trust ratio eta ||p|| / ||g + wd p||, momentum; biases excluded', () => {
    const d = map2((p, g) => g + 0.1 * p, P0);
    const norm = (m: number[][]) => Math.sqrt(m.flat().reduce((s, v) => s + v * v, 0));
    const trust = (0.001 * norm(P0)) / norm(d);
    const expected = P0.map((row, i) => row.map((v, j) => v - 0.5 * trust * d[i][j]));
    assertClose(stepWithFixedGrad((p) => new LARS([p], { lr: 0.5, weightDecay: 0.1 }), 1), expected, 1e-12);
    const bias = tensor([1, 2], { dtype: 'float64' }).requiresGrad_();
    const opt = new LARS([bias], { lr: 0.5, weightDecay: 0.1 });
    bias.grad = tensor([0.1, -0.2], { dtype: 'float64' });
    opt.step();
    assertClose(bias.toArray(), [1 - 0.05, 2 + 0.1], 1e-12);
  });
  test('LARS: the second step adds momentum times the first step\'s trust-scaled update', () => {
    const norm = (m: number[][]) => Math.sqrt(m.flat().reduce((s, v) => s + v * v, 0));
    const scaled = (p: number[][]) => {
      const d = map2((v, g) => g + 0.1 * v, p);
      const trust = (0.001 * norm(p)) / norm(d);
      return d.map((row) => row.map((v) => trust * v));
    };
    const d1 = scaled(P0);
    const p1 = P0.map((row, i) => row.map((v, j) => v - 0.5 * d1[i][j]));
    const d2 = scaled(p1);
    const p2 = p1.map((row, i) => row.map((v, j) => v - 0.5 * (0.9 * d1[i][j] + d2[i][j])));
    assertClose(stepWithFixedGrad((p) => new LARS([p], { lr: 0.5, weightDecay: 0.1, momentum: 0.9 }), 2), p2, 1e-12);
  });
  test('bad hyper-parameters are refused', () => {
    const p = tensor([1]).requiresGrad_();
    assert.throws(() => new SGD([p], { lr: -1 }), /learning rate must be >= 0/);
    assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum needs momentum > 0/);
    assert.throws(() => new AdamW([p], { lr: 0.1, weightDecay: -1 }), /weight decay must be >= 0/);
  });
});

describe('optimizers: 10 steps against torch.optim', () => {
  interface Fixture {
    X: number[][]; Y: number[][]; W0: number[][]; B0: number[];
    configs: Record<string, { optimizer: string; options: Record<string, unknown>; steps: { loss: number; w: number[][]; b: number[] }[] }>;
  }
  const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/optim_peer.json', import.meta.url), 'utf8')) as Fixture;
  const toOurs = (o: Record<string, unknown>) => ({
    lr: o.lr as number, momentum: o.momentum as number | undefined, dampening: o.dampening as number | undefined,
    nesterov: o.nesterov as boolean | undefined, weightDecay: o.weight_decay as number | undefined,
    betas: o.betas as [number, number] | undefined, eps: o.eps as number | undefined,
  });
  for (const [name, config] of Object.entries(fixture.configs)) {
    test(name, () => {
      const w = tensor(fixture.W0, { dtype: 'float64' }).requiresGrad_();
      const b = tensor(fixture.B0, { dtype: 'float64' }).requiresGrad_();
      const x = tensor(fixture.X, { dtype: 'float64' });
      const y = tensor(fixture.Y, { dtype: 'float64' });
      const options = Object.fromEntries(Object.entries(toOurs(config.options)).filter(([, v]) => v !== undefined)) as { lr: number };
      const opt = config.optimizer === 'SGD' ? new SGD([w, b], options) : new AdamW([w, b], options);
      const before = liveTensors();
      for (const expected of config.steps) {
        const loss = tidy(() => {
          const l = x.matmul(w.T).add(b).sub(y).square().mean();
          l.backward();
          return l.item();
        });
        opt.step();
        opt.zeroGrad();
        assertClose(loss, expected.loss, 1e-10);
        assertClose(w.toArray(), expected.w, 1e-10);
        assertClose(b.toArray(), expected.b, 1e-10);
      }
      // only the optimizer state stays alive: m, v and step per parameter (AdamW), a momentum buffer (SGD)
      const expectedState = config.optimizer === 'AdamW' ? 6 : config.options.momentum ? 2 : 0;
      assert.equal(liveTensors() - before, expectedState);
      opt.dispose();
    });
  }
});

describe('accumulation and weight-decay schedule', () => {
  test('two half-batches accumulated equal the full batch', () => {
    const x = tensor([[1, 2], [3, -1], [0.5, 0.5], [-2, 1]], { dtype: 'float64' });
    const grads = [1, 2].map((parts) => {
      const w = tensor([[0.3, -0.2]], { dtype: 'float64' }).requiresGrad_();
      for (const chunk of x.chunk(parts)) tidy(() => chunk.matmul(w.T).square().mean().div(parts).backward());
      return w.grad!.toArray();
    });
    assertClose(grads[1], grads[0], 1e-12);
  });
  test('setWeightDecay changes decaying groups only', () => {
    const a = tensor([[1]]).requiresGrad_();
    const b = tensor([1]).requiresGrad_();
    const opt = new AdamW([{ params: [a], weightDecay: 0.04 }, { params: [b], weightDecay: 0 }], { lr: 0.1 });
    opt.setWeightDecay(0.4);
    assert.deepEqual(opt.groups.map((g) => g.weightDecay), [0.4, 0]);
  });
});

describe('clipping and schedules', () => {
  test('clipGradNorm scales all gradients together to maxNorm and returns the norm before', () => {
    const a = tensor([1, 1]).requiresGrad_();
    const b = tensor([1]).requiresGrad_();
    a.grad = tensor([3, 0]);
    b.grad = tensor([4]);
    assert.ok(Math.abs(clipGradNorm([a, b], 1) - 5) < 1e-6);
    assertClose(a.grad!.toArray(), [0.6, 0], 1e-5);
    assertClose(b.grad!.toArray(), [0.8], 1e-5);
    assert.ok(Math.abs(clipGradNorm([a, b], 10) - 1) < 1e-5);
    assertClose(b.grad!.toArray(), [0.8], 1e-5, 'below the bound nothing changes');
  });
  test('warm-up + cosine, momentum 0.996 -> 1, temperature warm-up', () => {
    const lr = warmupCosine({ base: 1, final: 0.1, warmupSteps: 10, totalSteps: 110 });
    assertClose([lr(0), lr(5), lr(10), lr(60), lr(110), lr(200)], [0, 0.5, 1, 0.55, 0.1, 0.1]);
    const m = warmupCosine({ base: 0.996, final: 1, totalSteps: 100 });
    assertClose([m(0), m(50), m(100)], [0.996, 0.998, 1]);
    const temp = linearWarmup(0.04, 0.07, 30);
    assertClose([temp(0), temp(15), temp(30), temp(90)], [0.04, 0.055, 0.07, 0.07]);
    assert.throws(() => warmupCosine({ base: 1, final: 0, warmupSteps: 20, totalSteps: 10 }), /warmupSteps/);
  });
});

describe('layer-wise learning-rate decay (BEiT / MAE fine-tuning)', () => {
  test('embeddings learn at decay^(depth + 1), block i at decay^(depth - i), the final norm and a new head at 1; no decay on 1-D', () => {
    const vit = vitTiny({ imageSize: 8, patchSize: 4, dim: 8, depth: 3, heads: 2, numClasses: 2 });
    const groups = layerDecayGroups(vit, 0.05, 0.5, (name) => vit.layerId(name), 4);
    const scaleOf = (name: string) => groups.find((g) => g.names.includes(name))!;
    assertClose(['patch_embed.proj.weight', 'cls_token', 'pos_embed', 'blocks.0.attn.qkv.weight', 'blocks.2.mlp.fc2.weight', 'norm.weight', 'head.weight']
      .map((n) => scaleOf(n).lrScale), [1 / 16, 1 / 16, 1 / 16, 1 / 8, 1 / 2, 1, 1]);
    assert.equal(scaleOf('blocks.1.attn.qkv.weight').weightDecay, 0.05);
    assert.equal(scaleOf('blocks.1.attn.qkv.bias').weightDecay, 0);
    assert.equal(groups.reduce((n, g) => n + g.params.length, 0), vit.parameters().filter((p) => p.requiresGrad).length);
    const opt = new AdamW(groups, { lr: 1e-3 });
    opt.setLearningRate(0.1);
    assertClose([opt.groups.find((g) => g.params.includes(vit.clsToken))!.lr], [0.1 / 16]);
    vit.setDropPath(0.2);
    assert.deepEqual(vit.blocks.map((b) => b.dropPath.p), [0, 0.1, 0.2]);
    assert.throws(() => layerDecayGroups(vit, 0, 0, () => 0, 1), /decay must be in \(0, 1\]/);
    vit.dispose();
  });
});
