// Process-wide engine settings: threads, allocator, info; and the gradient checker itself.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { allocatorStats, emptyCache, engineInfo, getNumThreads, ones, setNumThreads, tidy, zeros, type Tensor } from '../src/tensor/index.js';
import { gradcheck, input } from './helpers/gradcheck.js';

describe('engine', () => {
  test('threads default to the cores this process may use, and can be set', () => {
    const fromEnv = Number(process.env.SELFSUP_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? 0);
    assert.equal(getNumThreads(), fromEnv > 0 ? fromEnv : availableParallelism());
    const n = getNumThreads();
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    setNumThreads(n);
    assert.throws(() => setNumThreads(0), /setNumThreads\(0\): expected a whole number from 1 to \d+/);
    assert.throws(() => setNumThreads(100_000), /4 x the \d+ cores of this machine/);
  });
  test('the caching allocator serves repeated large buffers from its cache', () => {
    if (process.env.SELFSUP_CPU_ALLOCATOR === 'default') return;
    const before = allocatorStats();
    assert.equal(before.caching, true);
    // on the CPU whatever the default device (SELFSUP_DEVICE=cuda): this is the CPU allocator
    for (let i = 0; i < 5; i++) tidy(() => { zeros([1 << 20], { device: 'cpu' }).add(1); }); // two 4 MiB buffers a round
    const after = allocatorStats();
    assert.ok(after.hits - before.hits >= 8, `hits ${after.hits - before.hits}`);
    assert.ok(after.cachedBytes >= 4 << 20);
    const live: Tensor = ones([1 << 20], { device: 'cpu' });
    assert.ok(allocatorStats().liveBytes >= 4 << 20);
    live.dispose();
    emptyCache();
    assert.equal(allocatorStats().cachedBytes, 0);
  });
  test('info describes the libtorch it runs on', () => {
    const info = engineInfo();
    assert.match(info.torchVersion, /^\d+\.\d+/);
    assert.equal(info.numThreads, getNumThreads());
    assert.equal(typeof info.cuda, 'boolean');
  });
});

describe('gradcheck', () => {
  test('catches a wrong gradient', () => {
    // x * detach(x) has autograd gradient x, not the true 2x.
    assert.throws(() => gradcheck((x) => x.mul(x.detach()), [input([3])]), /autograd .* vs finite difference/);
  });
});
