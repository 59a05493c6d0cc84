// Training checkpoints: a run resumed from a checkpoint continues exactly as the
// uninterrupted run (same losses, bit for bit); wrong files give clear errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadCheckpoint, saveCheckpoint, writeSafetensors } from '../src/io/index.js';
import { Dropout, Linear, Module, ReLU, Sequential } from '../src/nn/index.js';
import { AdamW, SGD } from '../src/optim/index.js';
import { Generator, crossEntropy, manualSeed, randint, randn, rand, rngState, setRngState, tidy, type Tensor } from '../src/tensor/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-ckpt-'));

class Net extends Module {
  readonly body: Sequential;
  constructor(seed: number, width = 16) {
    super();
    const g = new Generator(seed);
    this.body = this.registerModule('body', new Sequential(new Linear(8, width, { generator: g }), new ReLU(), new Dropout(0.2), new Linear(width, 3, { generator: g })));
  }
  forward(x: Tensor): Tensor {
    return this.body.forward(x);
  }
}

/** One step on a batch drawn from the global generator (so the RNG state matters). */
function trainStep(net: Net, opt: AdamW): number {
  const loss = tidy(() => {
    const x = randn([32, 8]);
    const y = randint(0, 3, [32]);
    const l = crossEntropy(net.forward(x), y);
    l.backward();
    return l.item();
  });
  opt.step();
  opt.zeroGrad();
  return loss;
}

describe('checkpoints', () => {
  test('rngState / setRngState make draws repeat', () => {
    manualSeed(9);
    const state = rngState();
    const a = rand([5]).toArray();
    setRngState(state);
    assert.deepEqual(rand([5]).toArray(), a);
  });
  test('resuming from a checkpoint gives the uninterrupted run\'s losses exactly', () => {
    manualSeed(1);
    const net = new Net(0);
    const opt = new AdamW(net.parameterGroups(0.01), { lr: 0.01 });
    const losses = [1, 2, 3].map(() => trainStep(net, opt));
    const path = join(dir, 'run.safetensors');
    saveCheckpoint(path, { model: net, optimizer: opt, step: 3, extra: { config: { lr: 0.01 }, epoch: 0 } });
    const uninterrupted = [4, 5, 6].map(() => trainStep(net, opt));

    manualSeed(12345); // a fresh process: other seed, other init
    const fresh = new Net(7);
    const freshOpt = new AdamW(fresh.parameterGroups(0.01), { lr: 0.5 });
    const { step, extra } = loadCheckpoint(path, { model: fresh, optimizer: freshOpt });
    assert.equal(step, 3);
    assert.deepEqual(extra, { config: { lr: 0.01 }, epoch: 0 });
    assert.equal(freshOpt.groups[0].lr, 0.01, 'hyper-parameters restored');
    assert.equal(freshOpt.stepCount, 3);
    const resumed = [4, 5, 6].map(() => trainStep(fresh, freshOpt));
    assert.deepEqual(resumed, uninterrupted);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')));
  });
  test('named generators are saved and restored', () => {
    const net = new Net(0);
    const g = new Generator(3);
    rand([4], { generator: g });
    const path = join(dir, 'gen.safetensors');
    saveCheckpoint(path, { model: net, step: 0, generators: { augment: g } });
    const next = rand([4], { generator: g }).toArray();
    const other = new Generator(99);
    loadCheckpoint(path, { model: net, generators: { augment: other } });
    assert.deepEqual(rand([4], { generator: other }).toArray(), next);
    assert.throws(() => loadCheckpoint(path, { model: net, generators: { masks: other } }), /no state for generator 'masks'/);
  });
  test('a checkpoint of another architecture, a weights-only file, another optimizer: clear errors', () => {
    const path = join(dir, 'small.safetensors');
    const net = new Net(0);
    saveCheckpoint(path, { model: net, optimizer: new AdamW(net.parameters(), { lr: 0.1 }), step: 1 });
    assert.throws(() => loadCheckpoint(path, { model: new Net(0, 32) }),
      (e: Error) => e.message.startsWith(path) && /does not fit this model/.test(e.message) && /shape of body\.0\.weight: expected \[32, 8\], got \[16, 8\]/.test(e.message));
    assert.throws(() => loadCheckpoint(path, { model: new Net(0), optimizer: new SGD(net.parameters(), { lr: 0.1 }) }), /optimizer is AdamW, not SGD/);
    const weights = join(dir, 'weights.safetensors');
    writeSafetensors(weights, net.stateDict());
    assert.throws(() => loadCheckpoint(weights, { model: new Net(0) }), /not a selfsup checkpoint/);
  });
});
