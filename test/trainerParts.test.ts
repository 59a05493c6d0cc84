// The trainer's parts, each alone (src/train/): the run log, the bad-step guard, the cost monitor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { claimRunFolder } from '../src/io/index.js';
import { SimCLR } from '../src/methods/index.js';
import { resnet18 } from '../src/models/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/tensor/index.js';
import { BadStepGuard, CostMonitor, type RunCheckpointing, RunLog, type StepContext, type StepRecord } from '../src/train/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-parts-'));
const record = (step: number): StepRecord => ({ step, epoch: 0, loss: 1 / step, lr: 0.1, img_per_s: 100, time: 0 });
const read = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('trainer parts', () => {
  test('RunLog: a new run empties metrics.jsonl; a resumed one keeps its checkpoint\'s steps and drops later and half-written lines; only the lead writes', () => {
    const out = join(dir, 'log');
    const lock = claimRunFolder(out);   // the trainer holds its run folder while it logs
    const first = new RunLog(out, true);
    first.begin();
    for (const step of [1, 2, 3]) first.step(record(step));
    first.event(3, { knn_top1: 0.5 }, { knn_top1: 'knn/top1' });
    first.close();
    appendFileSync(first.metricsPath, '{"step": 4, "lo');   // killed while writing
    const resumed = new RunLog(out, true);
    resumed.begin(2);
    assert.deepEqual(read(resumed.metricsPath).map((l) => l.step), [1, 2]);
    resumed.step(record(3));
    resumed.close();
    assert.deepEqual(read(resumed.metricsPath).map((l) => l.step), [1, 2, 3]);
    const fresh = new RunLog(out, true);
    fresh.begin();
    fresh.close();
    assert.equal(readFileSync(fresh.metricsPath, 'utf8'), '');
    lock.release();
    const other = join(dir, 'rank1');
    mkdirSync(other);
    const follower = new RunLog(other, false);
    follower.begin();
    follower.step(record(1));
    follower.close();
    assert.deepEqual(readdirSync(other), []);
  });

  test('RunLog: a resume whose rewrite of metrics.jsonl fails part-way (here: a file size limit) leaves the log whole', () => {
    // Before the rewrite was atomic it truncated the log and wrote it again in place: a run killed
    // in between (the crash-resume test caught one) lost its first steps' lines for good.
    const out = join(dir, 'limited');
    mkdirSync(out);
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify(record(i + 1)) + '\n').join('');
    writeFileSync(join(out, 'metrics.jsonl'), lines);   // ~270 kB, over the 100 kB limit below
    const io = new URL('../src/io/index.js', import.meta.url).href;
    const train = new URL('../src/train/index.js', import.meta.url).href;
    const script = `import { claimRunFolder } from '${io}'; import { RunLog } from '${train}';
      claimRunFolder(process.argv[1], { resume: true }); new RunLog(process.argv[1], true).begin(3000);`;
    const child = spawnSync('bash', ['-c', 'ulimit -f 100 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, out], { encoding: 'utf8' });
    assert.notEqual(child.status, 0, 'the rewrite must fail under the limit');
    assert.match(child.stderr, /could not write .*metrics\.jsonl/);
    assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), lines, 'every line still there');
    assert.deepEqual(readdirSync(out).filter((name) => name.includes('.tmp-')), [], 'no temporary file left');
  });

  test('BadStepGuard: each bad step skipped and logged; after maxBadSteps in a row the checkpoint is restored and the count starts again', () => {
    const out = join(dir, 'guard');
    mkdirSync(out);
    const runLog = new RunLog(out, true);
    runLog.begin();
    let restored = 0;
    const checkpoints = { path: join(out, 'checkpoint.safetensors'), restore: () => { restored++; return true; } } as unknown as RunCheckpointing;
    const g = new Generator(0);
    const method = new SimCLR(resnet18({ stem: 'cifar', width: 0.125, generator: g }), { featureDim: 64, hiddenDim: 16, projectionDim: 8, generator: g });
    const optimizer = new SGD(method.parameters(), { lr: 0.1 });
    const printed: string[] = [];
    const guard = new BadStepGuard(2, checkpoints, runLog, optimizer, (l) => printed.push(l));
    guard.skip(4, NaN);
    guard.trained();
    guard.skip(6, Infinity);
    assert.equal(restored, 0, 'a good step between: never two in a row');
    guard.skip(7, NaN);
    assert.equal(restored, 1);
    guard.skip(8, NaN);
    assert.equal(restored, 1, 'the count started again after the restore');
    runLog.close();
    assert.deepEqual(read(runLog.metricsPath), [5, 7, 8, 9].map((step) => ({ step, loss: null, skipped: true })));
    assert.match(printed.join('\n'), /step 7: 2 bad steps in a row; weights and optimizer restored from .*checkpoint\.safetensors/);
    optimizer.dispose();
    method.dispose();
  });

  test('CostMonitor: measured after the third step of the run (or of its resumed part), written by the lead only; the time left of a budget', () => {
    const out = join(dir, 'cost');
    mkdirSync(out);
    const g = new Generator(0);
    const method = new SimCLR(resnet18({ stem: 'cifar', width: 0.125, generator: g }), { featureDim: 64, hiddenDim: 16, projectionDim: 8, generator: g });
    const printed: string[] = [];
    const context = (lead: boolean, startStep: number, budget?: { trained: number; seconds: number }): StepContext => ({
      method, totalSteps: budget ? Infinity : 100, stepsPerEpoch: 10, startStep, epochEnded: false, lastStep: false, lead, out,
      trainedSeconds: budget?.trained ?? 0, budgetSeconds: budget?.seconds, log: () => undefined, print: (l) => printed.push(l),
    });
    const follower = new CostMonitor(2e9, 6e9, 32);
    for (const step of [1, 2, 3]) follower.onStep(record(step), context(false, 0));
    assert.equal(follower.estimate?.trainGflopsPerStep, 6 * 32);
    assert.ok(!existsSync(join(out, 'cost.json')));
    const lead = new CostMonitor(2e9, 6e9, 32);
    for (const step of [41, 42]) lead.onStep(record(step), context(true, 40));
    assert.equal(lead.estimate, undefined);
    lead.onStep(record(43), context(true, 40));
    const written = JSON.parse(readFileSync(join(out, 'cost.json'), 'utf8'));
    assert.deepEqual([written.forwardGflopsPerImage, written.imagesPerSecond, written.etaSeconds], [2, 100, (57 * 32) / 100]);
    assert.equal(printed.length, 2);
    // on a time budget: the time left of it
    const budgeted = new CostMonitor(2e9, 6e9, 32);
    for (const step of [1, 2, 3]) budgeted.onStep(record(step), context(true, 0, { trained: 2.5, seconds: 60 }));
    assert.equal(budgeted.estimate?.etaSeconds, 57.5);
    method.dispose();
  });
});
