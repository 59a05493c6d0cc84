/**
 * `npm run bench -- memory [--steps 10000]`: a small MLP trained for many steps with
 * tidy scopes; RSS is sampled every `every` steps and must stay flat after warm-up
 * (max deviation from the post-warm-up mean within 5%), as must the live tensor count.
 */
import { Generator, crossEntropy, empty, keep, linear, liveTensors, noGrad, randint, randn, tidy, zeros, type Tensor } from '../src/tensor/index.js';

export interface MemoryOptions { steps: number; every: number; warmup: number }

export function memoryBench(o: MemoryOptions): Record<string, unknown> {
  const gen = new Generator(0);
  const shapes: [number, number][] = [[256, 64], [256, 256], [10, 256]];
  const weights = shapes.map(([out, inp]) => keep(empty([out, inp]).normal_(0, Math.sqrt(2 / inp), gen)).requiresGrad_());
  const biases = shapes.map(([out]) => keep(zeros([out])).requiresGrad_());
  const params: Tensor[] = [...weights, ...biases];
  const liveAtStart = liveTensors();
  const samples: { step: number; rss_mb: number; live_tensors: number }[] = [];
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
  const after = samples.filter((s) => s.step > o.warmup).map((s) => s.rss_mb);
  const mean = after.reduce((a, b) => a + b, 0) / after.length;
  const deviation = Math.max(...after.map((r) => Math.abs(r - mean) / mean));
  const liveAtEnd = liveTensors();
  for (const p of params) p.dispose();
  return {
    bench: 'memory',
    steps: o.steps,
    steps_per_s: Number((o.steps / seconds).toFixed(1)),
    final_loss: Number(loss.toFixed(4)),
    rss_mb_first: Number(samples[0].rss_mb.toFixed(1)),
    rss_mb_mean_after_warmup: Number(mean.toFixed(1)),
    rss_max_deviation_pct: Number((deviation * 100).toFixed(2)),
    flat_within_5pct: deviation <= 0.05,
    live_tensors_start: liveAtStart,
    live_tensors_end: liveAtEnd,
    samples: samples.map((s) => [s.step, Number(s.rss_mb.toFixed(1))]),
  };
}
