/**
 * `npm run bench -- ops [--model vit_tiny_mask75|vit_tiny|resnet18|ijepa] [--steps N] [--batch B] [--fp32] [--json]`
 *
 * Where a train step of a model of the models benchmark spends its time, as `pretrain` runs it (bf16
 * autocast where the CPU has it), or of I-JEPA on ViT-Tiny/4 as the methods benchmark trains it (its
 * masks drawn in the step, the EMA after it): the step's forward, backward, optimizer and after-step, the calls into the
 * engine per step by op with their time (each call timed from JavaScript: argument marshalling, the
 * op and its result handle), and what is left for JavaScript itself (scopes, the model's code).
 * Run it with `SELFSUP_MALLOC=glibc` beside a default run (tcmalloc, bin/node-with-tcmalloc) to see
 * what glibc's malloc costs libtorch's own small allocations.
 */
import type { Optimizer } from '../src/optim/index.js';
import { Generator, type Tensor, autocast, crossEntropy, randint, randn, resolvePrecision, setNumThreads, tidy } from '../src/tensor/index.js';
import { untypedNative as untyped } from '../src/tensor/native.js';
import { benchMethod } from './methods.js';
import { setup } from './models.js';
import { round } from './sideBySide.js';

export interface OpProfileOptions { model: string; steps: number; batch: number; fp32: boolean; threads: number }

interface Profiled { loss: (x: Tensor, y: Tensor) => Tensor; optimizer: Optimizer<{ lr: number; weightDecay: number }>; afterStep: () => void; dispose: () => void }

/** A models-benchmark model (cross-entropy on random labels), or I-JEPA as bench/methods.ts trains it (benchMethod: ViT-Tiny/4, AdamW; the EMA at mid-run). */
function profiled(model: string, batch: number): Profiled {
  if (model === 'ijepa') {
    const { method, optimizer } = benchMethod('ijepa');
    return { loss: (x) => method.step([x], null).loss, optimizer, afterStep: () => method.afterStep(0.5), dispose: () => { optimizer.dispose(); method.dispose(); } };
  }
  const s = setup(model, batch);
  return { loss: (x, y) => crossEntropy(s.forward(x), y), optimizer: s.optimizer, afterStep: () => undefined, dispose: s.dispose };
}

export function opProfileBench(o: OpProfileOptions): Record<string, unknown> {
  setNumThreads(o.threads);
  const s = profiled(o.model, o.batch);
  const bf16 = !o.fp32 && resolvePrecision('auto') === 'bf16';
  const x = randn([o.batch, 3, 32, 32], { generator: new Generator(2) });
  const y = randint(0, 10, [o.batch], { generator: new Generator(3) });
  const phases = { forward: 0, backward: 0, optimizer: 0, afterStep: 0 };
  const step = () => {
    let t = performance.now();
    const loss = tidy(() => {
      const lossOf = () => s.loss(x, y);
      const l = bf16 ? autocast(lossOf) : lossOf();
      phases.forward += performance.now() - t;
      t = performance.now();
      l.backward();
      phases.backward += performance.now() - t;
      return l.detach();
    });
    t = performance.now();
    s.optimizer.step();
    s.optimizer.zeroGrad();
    loss.dispose();
    phases.optimizer += performance.now() - t;
    t = performance.now();
    s.afterStep();
    phases.afterStep += performance.now() - t;
  };
  for (let i = 0; i < 3; i++) step();
  Object.assign(phases, { forward: 0, backward: 0, optimizer: 0, afterStep: 0 });
  // every engine function timed from JavaScript while the steps run
  const calls = new Map<string, { count: number; ms: number }>();
  const originals = Object.entries(untyped).filter(([, f]) => typeof f === 'function');   // the addon's functions
  for (const [name, f] of originals) {
    untyped[name] = (...args: unknown[]) => {
      const t = performance.now();
      try { return f(...args); } finally {
        const c = calls.get(name) ?? { count: 0, ms: 0 };
        c.count++;
        c.ms += performance.now() - t;
        calls.set(name, c);
      }
    };
  }
  const start = performance.now();
  try {
    for (let i = 0; i < o.steps; i++) step();
  } finally {
    for (const [name, f] of originals) untyped[name] = f;
  }
  const stepMs = (performance.now() - start) / o.steps;
  const perStep = [...calls].map(([op, c]) => ({ op, calls: c.count / o.steps, ms: c.ms / o.steps })).sort((a, b) => b.ms - a.ms);
  const engineMs = perStep.reduce((sum, c) => sum + c.ms, 0);
  s.dispose();
  x.dispose();
  y.dispose();
  return {
    bench: 'ops', model: o.model, batch: o.batch, precision: bf16 ? 'bf16' : 'fp32', steps: o.steps, img_per_s: round((o.batch * 1000) / stepMs, 1),
    step_ms: round(stepMs, 1), forward_ms: round(phases.forward / o.steps, 1), backward_ms: round(phases.backward / o.steps, 1), optimizer_ms: round(phases.optimizer / o.steps, 1),
    after_step_ms: round(phases.afterStep / o.steps, 1),
    engine_calls_per_step: round(perStep.reduce((sum, c) => sum + c.calls, 0), 0),
    javascript_ms: round(stepMs - engineMs, 2),
    top_ops: perStep.slice(0, 12).map((c) => ({ op: c.op, calls: round(c.calls, 1), ms: round(c.ms, 2) })),
  };
}
