// Nothing is lost: a seeded run killed with SIGKILL at 20 random moments (during start-up, steps
// and checkpoint writes) and resumed each time adds up to the uninterrupted run, bit for bit.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { readSafetensors } from '../src/io/index.js';

const mini = fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url));
const crashRun = fileURLToPath(new URL('./helpers/crashRun.js', import.meta.url));
const env = { ...process.env, SELFSUP_NUM_THREADS: '1' };   // one thread: the engine is deterministic

/** A small seeded generator of kill delays (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const losses = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { step: number; loss: number });

describe('crash-resume', () => {
  test('killed with SIGKILL at 20 random moments and resumed each time, a run repeats the uninterrupted one exactly; no checkpoint is ever half-written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'selfsup-crash-'));
    // The uninterrupted run, timing its start-up (until it prints 'ready'): kills aimed at start-up fall
    // within it, whatever else the machine is doing (a share of the whole run's time could outlast the
    // few steps a late resume has left).
    const started = performance.now();
    const straight = spawn(process.execPath, [crashRun, mini, join(dir, 'straight')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let startup = NaN;
    let stderr = '';
    straight.stdout!.once('data', () => { startup = (performance.now() - started) / 1000; });
    straight.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const status = await new Promise<number | null>((resolve) => straight.on('exit', (code) => resolve(code)));
    assert.equal(status, 0, stderr);
    const lifetime = (performance.now() - started) / 1000;   // start-up and 80 steps, each with a checkpoint
    const expected = losses(join(dir, 'straight'));
    assert.deepEqual(expected.map((m) => m.step), Array.from({ length: 80 }, (_, i) => i + 1));

    const out = join(dir, 'killed');
    const checkpoint = join(out, 'checkpoint.safetensors');
    const next = random(20261129);
    let kills = 0;
    let midWrite = 0;
    let finished = false;
    while (kills < 20) {
      // Kill 0, 5, 10, 15 at a random moment of start-up; 1, 6, 11, 16 as soon as a checkpoint write has
      // begun (its temporary file appears); the others at random within 100 ms of training (a few steps).
      const child = spawn(process.execPath, [crashRun, mini, out], { stdio: ['ignore', 'pipe', 'ignore'], env });
      let timer: NodeJS.Timeout | undefined;
      const kind = kills % 5;
      if (kind === 0) timer = setTimeout(() => child.kill('SIGKILL'), 1000 * startup * next());
      else if (kind === 1) {
        timer = setInterval(() => {
          if (existsSync(out) && readdirSync(out).includes(`.checkpoint.safetensors.tmp-${child.pid}`)) child.kill('SIGKILL');
        }, 1);
      } else child.stdout!.once('data', () => { timer = setTimeout(() => child.kill('SIGKILL'), 100 * next()); });
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, s) => resolve(s)));
      clearTimeout(timer);
      clearInterval(timer);
      if (signal !== 'SIGKILL') { finished = true; break; }
      kills++;
      if (existsSync(out) && readdirSync(out).some((name) => name.startsWith('.checkpoint.safetensors.tmp-'))) midWrite++;
      if (existsSync(checkpoint)) {
        const { tensors } = readSafetensors(checkpoint);   // whole: every tensor's bytes are there
        assert.ok(tensors.size > 0);
        for (const t of tensors.values()) t.dispose();
      }
    }
    assert.ok(!finished, `the run finished after ${kills} kills: it must take all 20 (a longer run in crashRun.ts)`);
    assert.equal(kills, 20);
    const last = spawnSync(process.execPath, [crashRun, mini, out], { encoding: 'utf8', env });
    assert.equal(last.status, 0, last.stderr);
    assert.ok(midWrite >= 4, `${midWrite} of ${kills} kills landed inside a checkpoint write, expected at least 4`);
    const got = losses(out);
    assert.deepEqual(got.map((m) => m.step), expected.map((m) => m.step), 'one line per step, none twice');
    got.forEach((m, i) => assert.equal(m.loss, expected[i].loss, `step ${m.step} after resumes`));
    assert.deepEqual(readdirSync(out).filter((name) => name.includes('.tmp-')), [], 'the partial checkpoints were removed on resume');
    console.log(`# ${kills} kills (${midWrite} inside a checkpoint write), lifetime ${lifetime.toFixed(1)} s`);
  });
});
