/**
 * Per-step schedules, as plain functions of the step (so a resumed run recomputes them):
 * linear warm-up then cosine decay (SGDR, Loshchilov & Hutter, 2017) for learning rates
 * and weight decay, the cosine momentum schedule of BYOL/DINO teachers (0.996 -> 1),
 * and a linear warm-up that then holds (DINO's teacher temperature 0.04 -> 0.07).
 *
 * ```ts
 * const lr = warmupCosine({ base: 0.3, final: 0, warmupSteps: 500, totalSteps: 10_000 });
 * opt.setLearningRate(lr(step));
 * const momentum = warmupCosine({ base: 0.996, final: 1, totalSteps });
 * ```
 */
export interface WarmupCosineOptions {
  base: number;
  final: number;
  totalSteps: number;
  warmupSteps?: number;
  /** value at step 0 of the warm-up (default 0) */
  warmupStart?: number;
}

/** Linear from warmupStart to base over warmupSteps, then cosine from base to final at totalSteps (held after). */
export function warmupCosine(o: WarmupCosineOptions): (step: number) => number {
  const warmup = o.warmupSteps ?? 0;
  if (!(o.totalSteps > 0) || warmup < 0 || warmup > o.totalSteps) {
    throw new Error(`warmupCosine: need 0 <= warmupSteps (${warmup}) <= totalSteps (${o.totalSteps}) and totalSteps > 0`);
  }
  const start = o.warmupStart ?? 0;
  return (step: number) => {
    if (step < warmup) return start + ((o.base - start) * step) / warmup;
    const t = Math.min(1, (step - warmup) / Math.max(1, o.totalSteps - warmup));
    return o.final + 0.5 * (o.base - o.final) * (1 + Math.cos(Math.PI * t));
  };
}

/** Linear from start to end over `steps`, then end. */
export function linearWarmup(start: number, end: number, steps: number): (step: number) => number {
  return (step: number) => (step >= steps ? end : start + ((end - start) * step) / steps);
}
