/**
 * `npm run bench -- engine [--json] [--steps N] [--threads T] [--no-peer]`
 *
 * Per-call overhead of a tiny op, and images/s of a ResNet-18 (CIFAR stem) SGD step,
 * batch 128, 32x32, on T threads (2), side by side with the same step in PyTorch
 * (bench/peers/engine_resnet18.py), run at its best (tcmalloc preloaded) and at its
 * default (glibc malloc). ratio_vs_pytorch = ours / PyTorch at its best.
 * The two alternate for `rounds` rounds (5, of 4 steps) and the medians are reported (sideBySide.ts).
 */
import { ones, randint, randn, setNumThreads, allocatorStats, engineInfo, tidy } from '../src/tensor/index.js';
import { ResNet18 } from './resnet18.js';
import { runPeer, TCMALLOC } from './peer.js';
import { median, round, sideBySide } from './sideBySide.js';

export interface EngineOptions { steps: number; warmup: number; threads: number; batch: number; rounds: number; peer: boolean }

/** Microseconds per tiny op (add of two 1-element tensors) plus its dispose, inside a scope as training code runs. */
function overheadMicroseconds(calls: number): number {
  const a = ones([1]);
  const b = ones([1]);
  const once = (): void => a.add(b).dispose();
  const us = tidy(() => {
    for (let i = 0; i < 2000; i++) once();
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) once();
    return Number(process.hrtime.bigint() - start) / 1e3 / calls;
  });
  a.dispose();
  b.dispose();
  return us;
}

export function engineBench(o: EngineOptions): Record<string, unknown> {
  setNumThreads(o.threads);
  const overhead = overheadMicroseconds(100_000);
  const model = new ResNet18(10, 0);
  const [x, y] = [randn([o.batch, 3, 32, 32]), randint(0, 10, [o.batch])];
  const peerArgs = ['--threads', String(o.threads), '--batch', String(o.batch), '--steps', String(o.steps), '--warmup', String(o.warmup)];
  const timing = sideBySide({
    rounds: o.rounds, steps: o.steps, warmup: o.warmup, batch: o.batch,
    step: () => model.step(x, y),
    peer: o.peer ? () => runPeer('engine_resnet18.py', peerArgs, { LD_PRELOAD: TCMALLOC }) : undefined,
  });
  const peakRssMb = process.resourceUsage().maxRSS / 1024; // this process only (the peers are children)
  model.dispose();
  x.dispose();
  y.dispose();
  const result: Record<string, unknown> = {
    bench: 'engine',
    model: 'resnet18-cifar-stem',
    batch: o.batch,
    resolution: 32,
    threads: o.threads,
    steps: o.steps,
    rounds: o.rounds,
    libtorch: engineInfo().torchVersion,
    caching_allocator: allocatorStats().caching,
    overhead_us: round(overhead, 3),
    img_per_s: round(timing.imgPerS, 2),
    img_per_s_rounds: timing.rounds.map((v) => round(v, 1)),
    // the whole process: Node, libtorch and the step
    peak_rss_mb: round(peakRssMb, 1),
  };
  if (timing.peer) {
    const plain = runPeer('engine_resnet18.py', peerArgs, {});
    result.peer = `PyTorch ${timing.peer.runs[0].torch} (python3-torch), tcmalloc preloaded`;
    result.peer_img_per_s = round(timing.peer.imgPerS, 2);
    result.peer_img_per_s_rounds = timing.peer.rounds.map((v) => round(v, 1));
    result.peer_overhead_us = round(median(timing.peer.runs.map((p) => p.overhead_us as number)), 3);
    result.peer_default_img_per_s = round(plain.img_per_s as number, 2);
    result.peer_peak_rss_mb = round(median(timing.peer.runs.map((p) => p.peak_rss_mb as number)), 1);
    result.ratio_vs_pytorch = round(timing.imgPerS / timing.peer.imgPerS, 3);
  }
  return result;
}
