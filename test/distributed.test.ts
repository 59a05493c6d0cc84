// Data parallelism on c10d Gloo over loopback with two processes: the collectives, the gathered
// NT-Xent against one process's loss, one training step of each method against one process holding
// the combined batch, a killed rank, and `selfsup pretrain --nproc 2` with a resume on one process.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { freePort } from '../src/cli/launchRanks.js';
import { readSafetensors } from '../src/io/index.js';
import { ntXentLoss } from '../src/losses/index.js';
import { Generator, initProcessGroup, processGroupBackends, randn, tidy } from '../src/tensor/index.js';
import { DATA_PARALLEL_METHODS, dataParallelStep } from './helpers/dataParallelCase.js';
import { assertClose } from './helpers/gradcheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const worker = join(here, 'helpers', 'distributedWorker.js');
const cli = join(here, '..', 'src', 'cli', 'main.js');
const mini = join(here, '..', '..', 'test', 'fixtures', 'cifar10-mini');

interface Rank { child: ChildProcess; output: () => string; exit: Promise<number> }

async function startRanks(mode: string, out: string, env: Record<string, string> = {}): Promise<Rank[]> {
  const port = await freePort();
  return [0, 1].map((rank) => {
    const child = spawn(process.execPath, [worker, mode, out], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), SELFSUP_NUM_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (d) => { text += d; });
    child.stderr!.on('data', (d) => { text += d; });
    const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : 1))));
    return { child, output: () => text, exit };
  });
}

async function runRanks(mode: string, out: string, env: Record<string, string> = {}): Promise<void> {
  const ranks = await startRanks(mode, out, env);
  const codes = await Promise.all(ranks.map((r) => r.exit));
  codes.forEach((code, rank) => assert.equal(code, 0, `rank ${rank}: ${ranks[rank].output()}`));
}


test('a backend this build of the addon lacks is refused by name, before any rendezvous', { skip: processGroupBackends().includes('nccl') && 'this build has NCCL' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-dist-'));
  assert.throws(() => initProcessGroup({ rank: 0, worldSize: 1, backend: 'nccl', initMethod: `file://${join(dir, 'store')}` }),
    /backend 'nccl' is not in this build of the addon \(it has (gloo|no c10d);/);
  assert.equal(existsSync(join(dir, 'store')), false);
});

// A libtorch from PyTorch's wheels (LIBTORCH) ships no gloo headers, so its build has no Gloo; Debian's always has.
const noGloo = !processGroupBackends().includes('gloo') && process.env.LIBTORCH !== undefined && 'this LIBTORCH build has no Gloo';

describe('distributed (c10d Gloo, two processes on loopback)', { skip: noGloo }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-dist-'));

  test('collectives (the group made from a file store), and NT-Xent over the gathered batch equals one process on the combined batch (loss and gradients)', async () => {
    await runRanks('collectives', dir, { INIT_METHOD: `file://${join(dir, 'store')}` });
    const single = tidy(() => {
      const data = new Generator(5);
      const [z1, z2] = [randn([8, 16], { generator: data }).requiresGrad_(), randn([8, 16], { generator: data }).requiresGrad_()];
      const loss = ntXentLoss(z1, z2, 0.5);
      loss.backward();
      return { loss: loss.item(), grads: [Array.from(z1.grad!.data<Float32Array>()), Array.from(z2.grad!.data<Float32Array>())] };
    });
    for (const rank of [0, 1]) {
      const r = JSON.parse(readFileSync(join(dir, `collectives-${rank}.json`), 'utf8'));
      assert.deepEqual(r.sum, [3, 30]);
      assert.equal(r.max, 1);
      assert.equal(r.mean, 0.5);
      assert.deepEqual(r.gathered, [0, 0, 0.5, 0.5, 1, 1, 1.5, 1.5]);
      assert.deepEqual(r.shared, [42, 1], 'broadcast from rank 1');
      assert.equal(r.bigFirst, randn([300_000], { generator: new Generator(101) }).data<Float32Array>()[0], 'a two-bucket broadcast');
      assert.ok(Math.abs(r.meanLoss - single.loss) < 1e-5, `rank ${rank}: gathered NT-Xent ${r.meanLoss} vs one process ${single.loss}`);
      assertClose(r.grads[0], single.grads[0], 1e-5, 'dL/dz1');
      assertClose(r.grads[1], single.grads[1], 1e-5, 'dL/dz2');
    }
  });

  test('one data-parallel step (gathered negatives, SyncBatchNorm, DINO centre, VICReg statistics) equals one process with the combined batch', async () => {
    await runRanks('step', dir);
    for (const name of DATA_PARALLEL_METHODS) {
      const { state, loss } = dataParallelStep(name);
      const ranks = [0, 1].map((rank) => readSafetensors(join(dir, `${name}-${rank}.safetensors`)));
      for (const rank of [0, 1]) {
        const { tensors, metadata } = ranks[rank];
        assert.ok(Math.abs(Number(metadata.loss) - loss) < 1e-5, `${name} rank ${rank}: loss ${metadata.loss} vs ${loss}`);
        assert.deepEqual([...tensors.keys()].sort(), [...state.keys()].sort());
        for (const [key, value] of state) {
          // MoCo v2's per-process batch norm keeps each rank's own running statistics (as the reference code,
          // which saves rank 0's); one process with the batch in two chunks updates them once per chunk
          if (name === 'moco_v2' && /(running_mean|running_var|num_batches_tracked)$/.test(key)) continue;
          if (value.dtype === 'int64') {
            assert.deepEqual(tensors.get(key)!.data(), value.data(), `${name} ${key}`);
            continue;
          }
          const difference = tidy(() => tensors.get(key)!.sub(value).abs().max().item());
          assert.ok(difference < 1e-5, `${name} rank ${rank}: ${key} differs by ${difference}`);
        }
      }
      for (const { tensors } of ranks) for (const t of tensors.values()) t.dispose();
      for (const t of state.values()) t.dispose();
    }
  });

  test('a rank killed mid-run makes the other fail with an error naming the collective, not hang', async () => {
    const ranks = await startRanks('wait', dir, { DIST_TIMEOUT: '120' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (ranks.every((r) => r.output().includes('ready'))) { clearInterval(poll); resolve(); } }, 50);
    });
    const killedAt = Date.now();
    ranks[1].child.kill('SIGKILL');
    const code = await Promise.race([ranks[0].exit, new Promise<number>((resolve) => setTimeout(() => resolve(-99), 60_000).unref())]);
    if (code === -99) ranks[0].child.kill('SIGKILL');
    assert.notEqual(code, -99, 'rank 0 still waiting 60 s after rank 1 was killed');
    assert.notEqual(code, 0);
    assert.ok(Date.now() - killedAt < 60_000);
    assert.match(ranks[0].output(), /distributed allReduce failed on rank 0 of 2 \(gloo\)/);
    assert.match(ranks[0].output(), /another process of the run stopped/);
  });

  test('selfsup pretrain --nproc 2 trains (bfloat16 autocast: SyncBatchNorm and gathered embeddings in float32 over Gloo), rank 0 alone writes the run, and it resumes on one process', () => {
    const run = join(dir, 'run');
    const common = ['--method', 'simclr', '--data', mini, '--out', run, '--batch-size', '16', '--width', '0.125', '--hidden-dim', '32', '--workers', '0', '--epochs', '3', '--precision', 'bf16'];
    const two = spawnSync(process.execPath, [cli, 'pretrain', ...common, '--nproc', '2', '--max-steps', '4', '--checkpoint-every', '2'], { encoding: 'utf8' });
    assert.equal(two.status, 0, two.stderr);
    assert.match(two.stderr, /launching ranks 0\.\.1 of 2 \(1 thread\(s\) each\)/);
    assert.match(two.stderr, /2 processes of 8 images/);
    assert.doesNotMatch(two.stderr, /\[rank 1\] .*pretrain/, 'rank 1 shows no progress');
    assert.match(two.stdout, /pretrained simclr \(resnet18\) for 4 steps/);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3, 4]);
    assert.ok(lines.every((l) => Number.isFinite(l.loss)));
    assert.ok(existsSync(join(run, 'checkpoint.safetensors')));
    const one = spawnSync(process.execPath, [cli, 'pretrain', ...common, '--resume'], { encoding: 'utf8' });
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /resuming .* from step 4 \(epoch 2, batch 0\)/);
    assert.match(one.stdout, /for 2 steps/);
    const after = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(after, [1, 2, 3, 4, 5, 6]);
  });

  test('on a time budget the ranks stop at the same step (rank 0\'s clock), not one waiting for the other', () => {
    const run = join(dir, 'budget');
    const budgeted = spawnSync(process.execPath, [cli, 'pretrain', '--method', 'simclr', '--data', mini, '--out', run, '--batch-size', '16', '--width', '0.125',
      '--hidden-dim', '32', '--workers', '0', '--minutes', '0.05', '--nproc', '2', '--dist-timeout', '20'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(budgeted.status, 0, budgeted.stderr);
    const steps = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss?: number }).filter((l) => 'loss' in l);
    assert.ok(steps.length >= 3, `${steps.length} steps in 3 s`);
    assert.match(budgeted.stdout, new RegExp(`for ${steps.length} steps`));
  });

  test('a failed rank fails the launcher: its exit status is the rank\'s, not 0', () => {
    const failed = spawnSync(process.execPath, [cli, 'pretrain', '--method', 'simclr', '--data', join(dir, 'absent'), '--out', join(dir, 'never'), '--nproc', '2'], { encoding: 'utf8' });
    assert.match(failed.stderr, /absent: no such folder or file/);
    assert.match(failed.stderr, /rank \d exited with code 1: stopping the other ranks/);
    assert.equal(failed.status, 1);
  });
});
