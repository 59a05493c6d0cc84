// The training loop and its outputs: TensorBoard records, progress lines, the FLOP count, bfloat16
// autocast, metrics and checkpoints of a short run, NaN steps, a resume after SIGKILL that repeats the
// uninterrupted run's losses, and the quality proof: SimCLR on real images beats a random encoder.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ImageFolder } from '../src/data/index.js';
import { backboneKnn } from '../src/eval/index.js';
import { type MethodStep, methodViews, SimCLR, SSLMethod } from '../src/methods/index.js';
import { Linear } from '../src/nn/index.js';
import { resnet18 } from '../src/models/index.js';
import { Generator, type Tensor, autocast, randn, tidy } from '../src/tensor/index.js';
import { readCheckpointMetadata } from '../src/io/index.js';
import { warmupCosine } from '../src/optim/index.js';
import {
  Progress, type TrainerCallback, checkResolutionSchedule, crc32c, forwardFlops, maskedCrc32c, pretrain, resizeViews, scheduledSide, trainFlopsPerImage,
} from '../src/train/index.js';

const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
const demo = fileURLToPath(new URL('../../data/cifar10-demo', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'selfsup-train-'));

/** Scalars of a TensorBoard event file, checking every record's framing and CRCs. */
function readEvents(path: string): { step: number; tag: string; value: number }[] {
  const file = readFileSync(path);
  const out: { step: number; tag: string; value: number }[] = [];
  const varint = (b: Buffer, at: number): [number, number] => {
    let v = 0; let shift = 0; let i = at;
    for (;;) { const byte = b[i++]; v += (byte & 0x7f) * 2 ** shift; shift += 7; if (!(byte & 0x80)) return [v, i]; }
  };
  const fields = (b: Buffer) => {
    const f: { field: number; value: number | Buffer }[] = [];
    for (let i = 0; i < b.length;) {
      const [key, next] = varint(b, i); i = next;
      const field = key >> 3; const wire = key & 7;
      if (wire === 0) { const [v, n] = varint(b, i); f.push({ field, value: v }); i = n; }
      else if (wire === 1) { f.push({ field, value: b.readDoubleLE(i) }); i += 8; }
      else if (wire === 5) { f.push({ field, value: b.readFloatLE(i) }); i += 4; }
      else { const [len, n] = varint(b, i); f.push({ field, value: b.subarray(n, n + len) }); i = n + len; }
    }
    return f;
  };
  for (let at = 0; at < file.length;) {
    const length = Number(file.readBigUInt64LE(at));
    assert.equal(file.readUInt32LE(at + 8), maskedCrc32c(file.subarray(at, at + 8)), 'length CRC');
    const data = file.subarray(at + 12, at + 12 + length);
    assert.equal(file.readUInt32LE(at + 12 + length), maskedCrc32c(data), 'data CRC');
    at += 16 + length;
    const event = fields(data);
    const step = (event.find((e) => e.field === 2)?.value as number) ?? 0;
    for (const summary of event.filter((e) => e.field === 5)) {
      for (const value of fields(summary.value as Buffer).filter((e) => e.field === 1)) {
        const v = fields(value.value as Buffer);
        out.push({ step, tag: (v.find((e) => e.field === 1)!.value as Buffer).toString(), value: v.find((e) => e.field === 2)!.value as number });
      }
    }
  }
  return out;
}

/** SimCLR with a quarter-width ResNet-18 (CIFAR stem). */
const small = (seed = 0) => {
  const g = new Generator(seed);
  return new SimCLR(resnet18({ stem: 'cifar', width: 0.25, generator: g }), { featureDim: 128, hiddenDim: 128, generator: g });
};

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

describe('training outputs', () => {
  test('CRC-32C check value; progress lines off a terminal; FLOPs of known layers', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    const written: string[] = [];
    const progress = new Progress('pretrain', 10, 32, { interval: 0, stream: { write: (s: string) => { written.push(s); } } });
    progress.update(1, { loss: 2.5 });
    progress.update(10, { loss: 1.25 });
    assert.match(written[1], /^pretrain 10\/10 {2}[\d.]+ img\/s {2}ETA 0s {2}loss 1\.250\n$/);
    assert.equal(forwardFlops(new Linear(4, 3), [1, 4]), 2 * 4 * 3);
    const gflops = forwardFlops(resnet18(), [1, 3, 224, 224]) / 1e9;
    assert.ok(Math.abs(gflops - 3.64) < 0.02, `ResNet-18 at 224: ${gflops} GFLOPs (torchvision: 1.82 G multiply-adds)`);
    // a step's cost counts each view at its own size (DINO's local crops) and only the patches the backbone sees (MAE)
    const net = resnet18({ stem: 'cifar', width: 0.25 });
    const [f32, f16] = [forwardFlops(net, [1, 3, 32, 32]), forwardFlops(net, [1, 3, 16, 16])];
    assert.ok(Math.abs(f16 / f32 - 0.25) < 0.01, `a 16-px view costs a quarter of a 32-px one: ${f16 / f32}`);
    assert.equal(trainFlopsPerImage(net, [32, 32, 16, 16]), 3 * (2 * f32 + 2 * f16));
    assert.equal(trainFlopsPerImage(net, [32], 0.25), 0.75 * f32);
    net.dispose();
  });
  test('bfloat16 autocast: products in bfloat16 inside, float32 outside, close to float32', () => {
    const a = randn([32, 64], { generator: new Generator(1) });
    const b = randn([64, 16], { generator: new Generator(2) });
    const mixed = autocast(() => a.matmul(b));
    assert.equal(mixed.dtype, 'bfloat16');
    assert.equal(a.matmul(b).dtype, 'float32');
    const error = mixed.float().sub(a.matmul(b)).abs().max().item();
    assert.ok(error > 0 && error < 0.5, `bfloat16 error ${error}`);
  });
});

describe('pretrain', async () => {
  const images = await ImageFolder.scan(mini).load();
  const views = methodViews('simclr', { size: 32 });

  test('writes metrics.jsonl, TensorBoard scalars, config, cost and a checkpoint; collapse diagnostics logged', async () => {
    const out = join(dir, 'outputs');
    const logged: string[] = [];
    const summary = await pretrain(small(), images, views, {
      out, epochs: 3, batchSize: 16, workers: 0, diagnosticsEvery: 2, optimizer: { name: 'sgd', lr: 0.05, weightDecay: 5e-4 },
      knn: { train: images, test: images, view: methodViews('eval', { size: 32 }).views[0], every: 3 }, config: { note: 'test' }, log: (l) => logged.push(l),
    });
    assert.equal(summary.steps, 6);
    const metrics = lines(join(out, 'metrics.jsonl'));
    assert.deepEqual(metrics.filter((m) => 'loss' in m).map((m) => m.step), [1, 2, 3, 4, 5, 6]);
    assert.ok(metrics.some((m) => m['collapse/effective_rank'] > 1 && m['collapse/std_reference'] > 0));
    assert.ok(metrics.some((m) => m.knn_top1 > 0));
    const events = readEvents(join(out, 'tensorboard', readdirSync(join(out, 'tensorboard'))[0]));
    assert.deepEqual(events.filter((e) => e.tag === 'loss').map((e) => e.step), [1, 2, 3, 4, 5, 6]);
    assert.ok(Math.abs(events.find((e) => e.tag === 'loss' && e.step === 6)!.value - metrics.find((m) => m.step === 6 && 'loss' in m)!.loss) < 1e-5);
    assert.ok(events.some((e) => e.tag === 'knn/top1'));
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')), { note: 'test' });
    assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
    assert.ok(JSON.parse(readFileSync(join(out, 'cost.json'), 'utf8')).forwardGflopsPerImage > 0);
    assert.ok(logged.some((l) => /^cost: parameters [\d.]+ M, forward [\d.]+ GFLOPs\/image/.test(l)));
  });

  test('a user\'s callback sees every trained step and logs its own metric to metrics.jsonl and TensorBoard', async () => {
    const out = join(dir, 'callback');
    const seen: number[] = [];
    const headNorm: TrainerCallback = {
      onStep: (record, context) => {
        seen.push(record.step);
        assert.equal(context.totalSteps, 4);
        if (context.epochEnded) context.log({ head_norm: tidy(() => context.method.parameters().at(-1)!.norm().item()) }, { head_norm: 'custom/head_norm' });
      },
    };
    const summary = await pretrain(small(), images, views, {
      out, epochs: 2, batchSize: 16, workers: 0, optimizer: { name: 'sgd', lr: 0.05, weightDecay: 5e-4 }, callbacks: [headNorm], log: () => undefined,
    });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.equal(summary.steps, 4);
    const logged = lines(join(out, 'metrics.jsonl')).filter((m) => 'head_norm' in m);
    assert.deepEqual(logged.map((m) => m.step), [2, 4], 'at the end of each of the 2 epochs of 2 steps');
    assert.ok(logged.every((m) => m.head_norm > 0));
    const events = readEvents(join(out, 'tensorboard', readdirSync(join(out, 'tensorboard'))[0]));
    assert.deepEqual(events.filter((e) => e.tag === 'custom/head_norm').map((e) => e.step), [2, 4]);
  });

  test('gradient accumulation: k loader batches per step; bfloat16 autocast trains too', async () => {
    const summary = await pretrain(small(), images, views, {
      out: join(dir, 'accumulate'), epochs: 2, batchSize: 8, accumulate: 2, workers: 0, mixedPrecision: true,
      optimizer: { name: 'lars', lr: 0.1, weightDecay: 1e-6 }, log: () => undefined,
    });
    assert.equal(summary.steps, 4, '40 images: 5 batches of 8 per epoch, 2 per step -> 2 steps per epoch');
    assert.ok(Number.isFinite(summary.lastLoss));
    const metrics = lines(join(dir, 'accumulate', 'metrics.jsonl'));
    assert.deepEqual(metrics.map((m) => m.epoch), [0, 0, 1, 1]);
  });

  test('a time budget: the schedules run over the time spent, callbacks\' time is not counted, and a resumed run spends what is left', async () => {
    /** SimCLR whose every step takes at least 40 ms more, so that the budget holds a known few steps */
    class Slow extends SSLMethod {
      readonly backbone;
      constructor(readonly inner: SimCLR) { super(); this.backbone = inner.backbone; this.registerModule('inner', inner); }
      step(v: Tensor[]): MethodStep {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40);
        return this.inner.step(v);
      }
    }
    const out = join(dir, 'budget');
    const minutes = 0.02;   // 1.2 s
    const pausing: TrainerCallback = { onStep: () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60); } };
    const options = {
      out, epochs: 4, batchSize: 16, workers: 0, minutes, checkpointEvery: 1000, callbacks: [pausing],
      optimizer: { name: 'sgd' as const, lr: 0.1, weightDecay: 0, warmupEpochs: 1 }, log: () => undefined,
    };
    // a first part stopped after 5 steps, then resumed to the end of the budget
    const first = await pretrain(new Slow(small()), images, views, { ...options, maxSteps: 5 });
    assert.equal(first.steps, 5);
    const saved = readCheckpointMetadata(join(out, 'checkpoint.safetensors')).extra.trainedSeconds as number;
    assert.equal(saved, first.trainedSeconds);
    assert.ok(saved > 5 * 0.04 && saved < 1.2, `5 steps in ${saved} s`);
    const started = performance.now();
    const rest = await pretrain(new Slow(small()), images, views, { ...options, resume: true });
    const wall = (performance.now() - started) / 1000;
    assert.ok(rest.trainedSeconds >= 60 * minutes, `stopped at ${rest.trainedSeconds} s of ${60 * minutes}`);
    assert.ok(rest.trainedSeconds < 60 * minutes + 0.5, `one step past the budget at most: ${rest.trainedSeconds} s`);
    // the callbacks' 60 ms a step came on top of the budget's time
    assert.ok(wall > rest.trainedSeconds - saved + 0.9 * 0.06 * rest.steps, `${rest.steps} steps: ${wall} s of wall time, ${rest.trainedSeconds - saved} s trained`);
    // the learning rate: warm-up over the first quarter of the budget (1 of 4 epochs), then cosine to 0 at its end
    const lr = warmupCosine({ base: 0.1, final: 0, totalSteps: 60 * minutes, warmupSteps: 60 * minutes / 4 });
    const metrics = lines(join(out, 'metrics.jsonl')).filter((m) => 'loss' in m);
    assert.equal(metrics.length, 5 + rest.steps);
    assert.ok(Math.abs(metrics[5].lr - lr(saved)) < 1e-12, `step 6 starts where the first part stopped: ${metrics[5].lr} vs ${lr(saved)}`);
    assert.ok(metrics[0].lr === 0 && metrics.some((m) => m.lr > 0.09), 'the warm-up rose to the base rate');
    assert.ok(metrics.at(-1)!.lr < 0.02, `near the end of the cosine: ${metrics.at(-1)!.lr}`);
  });

  test('progressive resizing: the views grow from startSize to their own side over the run, every view alike', async () => {
    // hand values: 16 -> 32 px between 0 and half the run, rounded to multiples of 4 (8)
    const schedule = { startSize: 16, until: 0.5 };
    assert.deepEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9].map((f) => scheduledSide(schedule, 32, f)), [16, 20, 24, 24, 28, 32, 32]);
    assert.deepEqual([0, 0.2, 0.4].map((f) => scheduledSide({ ...schedule, from: 0.2, until: 0.4, multiple: 8 }, 32, f)), [16, 16, 32]);
    assert.equal(scheduledSide({ ...schedule, from: 0.2, until: 0.4, multiple: 8 }, 32, 0.3), 24);
    assert.throws(() => checkResolutionSchedule({ startSize: 32 }, 32), /startSize must be a whole number of pixels from 4 to below the views' side 32, got 32/);
    assert.throws(() => checkResolutionSchedule({ startSize: 16, from: 0.5, until: 0.5 }, 32), /expected 0 <= from < until <= 1/);
    const shrunk = resizeViews([tidy(() => randn([2, 3, 32, 32])), tidy(() => randn([2, 3, 16, 16]))], 24, 32);
    assert.deepEqual(shrunk.map((v) => v.shape), [[2, 3, 24, 24], [2, 3, 12, 12]], 'a local view shrinks by the same factor');
    for (const v of shrunk) v.dispose();
    /** SimCLR that records the side of the views it is given */
    class Recording extends SSLMethod {
      readonly backbone;
      readonly sides: number[] = [];
      constructor(readonly inner: SimCLR) { super(); this.backbone = inner.backbone; this.registerModule('inner', inner); }
      step(v: Tensor[]): MethodStep {
        assert.equal(v[0].size(3), v[1].size(2));
        this.sides.push(v[0].size(2));
        return this.inner.step(v);
      }
    }
    const method = new Recording(small());
    const out = join(dir, 'resize');
    await pretrain(method, images, views, {
      out, epochs: 2, batchSize: 8, workers: 0, resolution: schedule, optimizer: { name: 'sgd', lr: 0.05, weightDecay: 0 }, log: () => undefined,
    });
    // 40 images: 5 steps of 8 per epoch, 10 in all; step k is at k / 10 of the run
    assert.deepEqual(method.sides, [16, 20, 24, 24, 28, 32, 32, 32, 32, 32]);
    assert.deepEqual(lines(join(out, 'metrics.jsonl')).map((m) => m.view_size), method.sides);
    await assert.rejects(pretrain(small(), images, methodViews('simclr', { size: 32 }), {
      out: join(dir, 'resize-bad'), epochs: 1, batchSize: 8, workers: 0, resolution: { startSize: 40 }, optimizer: { name: 'sgd', lr: 0.05, weightDecay: 0 }, log: () => undefined,
    }), /startSize must be a whole number of pixels from 4 to below the views' side 32, got 40/);
  });

  test('a NaN loss skips the step, logs it, and after 2 in a row restores the last checkpoint', async () => {
    class Flaky extends SSLMethod {
      readonly backbone;
      calls = 0;
      /** a weight as step 3 starts (= the checkpoint of step 2) and as step 6 starts (after the restore) */
      readonly seen: number[][] = [];
      constructor(readonly inner: SimCLR) { super(); this.backbone = inner.backbone; this.registerModule('inner', inner); }
      step(v: Tensor[]): MethodStep {
        this.calls++;
        if (this.calls === 3 || this.calls === 6) this.seen.push(this.inner.backbone.parameters()[0].flatten().toArray() as number[]);
        const out = this.inner.step(v);
        return this.calls >= 4 && this.calls <= 5 ? { loss: tidy(() => out.loss.mul(NaN)) } : out;
      }
    }
    const logged: string[] = [];
    const flaky = new Flaky(small());
    const summary = await pretrain(flaky, images, views, {
      out: join(dir, 'nan'), epochs: 3, batchSize: 16, workers: 0, maxBadSteps: 2, checkpointEvery: 2,
      optimizer: { name: 'sgd', lr: 0.05, weightDecay: 0 }, log: (l) => logged.push(l),
    });
    assert.equal(summary.steps, 6);
    assert.equal(logged.filter((l) => /loss is NaN, step skipped/.test(l)).length, 2);
    assert.ok(logged.some((l) => /2 bad steps in a row; weights and optimizer restored/.test(l)));
    // step 3 moved the weights after the checkpoint of step 2; the restore brought them back
    assert.deepEqual(flaky.seen[1], flaky.seen[0], 'the weights after the restore are the checkpoint\'s');
    assert.ok(Number.isFinite(summary.lastLoss));
  });

});
