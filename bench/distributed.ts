/**
 * Data-parallel scaling on this machine: SimCLR ResNet-18 (CIFAR stem) on real CIFAR-10 JPEGs at
 * 32 px, the whole batch 128, through `selfsup pretrain` as a user runs it:
 *   1 process x 1 thread, 1 process x all threads, N processes x 1 thread (with and without
 *   SyncBatchNorm). Throughput is the trainer's images/s after its first step (the last line of
 *   metrics.jsonl); efficiency = N processes / (N x one single-threaded process).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifarJpegSubset } from './cifarJpegs.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface DistributedBenchOptions { steps: number; batch: number; perClass: number }

function throughput(data: string, batch: number, steps: number, extra: string[], env: Record<string, string> = {}): number {
  const out = mkdtempSync(join(tmpdir(), 'selfsup-dist-bench-'));
  try {
    const args = [cli, 'pretrain', '--method', 'simclr', '--data', data, '--out', out, '--batch-size', String(batch),
      '--epochs', '100', '--max-steps', String(steps), '--workers', '1', '--diagnostics-every', '1000', ...extra];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    if (run.status !== 0) throw new Error(`selfsup pretrain ${extra.join(' ')} failed:\n${run.stderr}`);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    return (JSON.parse(lines[lines.length - 1]) as { img_per_s: number }).img_per_s;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function distributedBench(o: DistributedBenchOptions): Record<string, unknown> {
  const data = cifarJpegSubset('train', o.perClass);
  const cores = availableParallelism();
  const one = throughput(data, o.batch, o.steps, ['--threads', '1']);
  const threaded = throughput(data, o.batch, o.steps, ['--threads', String(cores)]);
  const processes = throughput(data, o.batch, o.steps, ['--nproc', String(cores)]);
  const unsynced = throughput(data, o.batch, o.steps, ['--nproc', String(cores), '--sync-batch-norm', 'false']);
  return {
    setup: `SimCLR ResNet-18 32px, batch ${o.batch} in all, ${o.steps} steps, ${cores} cores, c10d Gloo on loopback`,
    'img/s 1 proc x 1 thread': one.toFixed(1),
    [`img/s 1 proc x ${cores} threads`]: threaded.toFixed(1),
    [`img/s ${cores} procs x 1 thread (SyncBN)`]: processes.toFixed(1),
    [`img/s ${cores} procs x 1 thread (local BN)`]: unsynced.toFixed(1),
    [`${cores} procs vs 1 proc x ${cores} threads`]: (processes / threaded).toFixed(2),
    [`scaling efficiency of ${cores} procs`]: (processes / (cores * one)).toFixed(2),
    [`scaling efficiency of ${cores} threads`]: (threaded / (cores * one)).toFixed(2),
  };
}
