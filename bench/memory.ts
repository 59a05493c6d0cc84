/**
 * `npm run bench -- memory [--steps 10000]`: a small MLP trained for many steps with
 * tidy scopes; RSS is sampled every `every` steps and must stay flat after warm-up
 * (max deviation from the post-warm-up mean within 5%), as must the live tensor count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageFolder } from '../src/data/index.js';
import { methodViews, SimCLR } from '../src/methods/index.js';
import { resnet18 } from '../src/models/index.js';
import { Generator, crossEntropy, empty, keep, linear, liveTensors, noGrad, randint, randn, tidy, zeros, type Tensor } from '../src/tensor/index.js';
import { pretrain } from '../src/train/index.js';

export interface MemoryOptions { steps: number; every: number; warmup: number }

type Sample = { step: number; rss_mb: number; live_tensors: number };

/** The report of a run sampled every so many steps: RSS after warm-up against its mean (flat within 5%?). */
function flatness(name: string, o: MemoryOptions, samples: Sample[], seconds: number, loss: number, live: [number, number]): Record<string, unknown> {
  const after = samples.filter((s) => s.step > o.warmup).map((s) => s.rss_mb);
  const mean = after.reduce((a, b) => a + b, 0) / after.length;
  const deviation = Math.max(...after.map((r) => Math.abs(r - mean) / mean));
  return {
    bench: name,
    steps: o.steps,
    steps_per_s: Number((o.steps / seconds).toFixed(1)),
    final_loss: Number(loss.toFixed(4)),
    rss_mb_first: Number(samples[0].rss_mb.toFixed(1)),
    rss_mb_mean_after_warmup: Number(mean.toFixed(1)),
    rss_max_deviation_pct: Number((deviation * 100).toFixed(2)),
    flat_within_5pct: deviation <= 0.05,
    live_tensors_start: live[0],
    live_tensors_end: live[1],
    samples: samples.map((s) => [s.step, Number(s.rss_mb.toFixed(1)), s.live_tensors]),
  };
}

export function memoryBench(o: MemoryOptions): Record<string, unknown> {
  const gen = new Generator(0);
  const shapes: [number, number][] = [[256, 64], [256, 256], [10, 256]];
  const weights = shapes.map(([out, inp]) => keep(empty([out, inp]).normal_(0, Math.sqrt(2 / inp), gen)).requiresGrad_());
  const biases = shapes.map(([out]) => keep(zeros([out])).requiresGrad_());
  const params: Tensor[] = [...weights, ...biases];
  const liveAtStart = liveTensors();
  const samples: Sample[] = [];
  const start = Date.now();
  let loss = 0;
  for (let step = 1; step <= o.steps; step++) {
    loss = tidy(() => {
      const x = randn([64, 64], { generator: gen });
      const y = randint(0, 10, [64], { generator: gen });
      let h = x;
      for (let i = 0; i < weights.length; i++) {
        h = linear(h, weights[i], biases[i]);
        if (i < weights.length - 1) h = h.relu();
      }
      const l = crossEntropy(h, y);
      l.backward();
      noGrad(() => params.forEach((p) => { p.sub_(p.grad!, 0.01); p.zeroGrad(); }));
      return l.item();
    });
    if (step % o.every === 0) samples.push({ step, rss_mb: process.memoryUsage().rss / 2 ** 20, live_tensors: liveTensors() });
  }
  const seconds = (Date.now() - start) / 1000;
  const liveAtEnd = liveTensors();
  for (const p of params) p.dispose();
  return flatness('memory', o, samples, seconds, loss, [liveAtStart, liveAtEnd]);
}

/**
 * `npm run bench -- memory --trainer`: one pretraining run of `steps` steps through the whole path
 * (a loader with a worker thread, SimCLR on a ResNet-18 at 1/8 width and 16 px, SGD, collapse
 * diagnostics every 10 steps, a checkpoint every 500, metrics.jsonl), RSS and live tensors sampled
 * every second while it trains (after a full garbage collection when node runs with --expose-gc:
 * `node --expose-gc dist/bench/run.js memory --trainer`); the first 40% of the run is warm-up (the
 * caching allocator and V8 size their pools over the first few thousand steps).
 * Samples are [seconds, RSS MB, live tensors].
 */
export async function trainerMemoryBench(o: MemoryOptions): Promise<Record<string, unknown>> {
  const images = await ImageFolder.scan(fileURLToPath(new URL('../../test/fixtures/cifar10-mini', import.meta.url))).load({ size: 16, warn: () => undefined });
  const out = mkdtempSync(join(tmpdir(), 'selfsup-soak-'));
  const g = new Generator(0);
  const backbone = resnet18({ stem: 'cifar', width: 0.125, generator: g });
  const method = new SimCLR(backbone, { featureDim: backbone.featureDim, hiddenDim: 128, projectionDim: 64, generator: g });
  const liveAtStart = liveTensors();
  const samples: Sample[] = [];
  const start = Date.now();
  const sampler = setInterval(() => {
    (globalThis as { gc?: () => void }).gc?.();   // what stays, not garbage not yet collected
    samples.push({ step: (Date.now() - start) / 1000, rss_mb: process.memoryUsage().rss / 2 ** 20, live_tensors: liveTensors() });
  }, 1000);
  const summary = await pretrain(method, images, methodViews('simclr', { size: 16 }), {
    out, epochs: Math.ceil(o.steps / 5), batchSize: 8, workers: 1, seed: 0, maxSteps: o.steps, checkpointEvery: 500,
    diagnosticsEvery: 10, optimizer: { name: 'sgd', lr: 0.05, weightDecay: 5e-4 }, log: () => undefined,
  });
  clearInterval(sampler);
  const seconds = (Date.now() - start) / 1000;
  rmSync(out, { recursive: true, force: true });
  const report = flatness('memory --trainer', { ...o, warmup: 0.4 * seconds }, samples, seconds, summary.lastLoss, [liveAtStart, liveTensors()]);
  method.dispose();
  return { ...report, warmup_seconds: Number((0.4 * seconds).toFixed(1)) };
}
