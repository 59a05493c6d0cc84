/**
 * Collapse diagnostics of a step's embeddings (eval/collapse.ts: per-dimension std of the normalised
 * embeddings against 1/sqrt(d), effective rank, uniformity and, with two views, alignment), every
 * `every` steps, as metrics of the step; a warning line when the representation collapses. Runs
 * inside the step, while its embeddings exist.
 *
 * ```ts
 * const monitor = new CollapseMonitor(10, console.error);
 * Object.assign(metrics, monitor.measure(step, out.embeddings));
 * ```
 */
import { collapseMetrics } from '../eval/index.js';
import type { Tensor } from '../tensor/index.js';

export class CollapseMonitor {
  constructor(private readonly every: number, private readonly print: (line: string) => void) {}

  /** The diagnostics at `step` (nothing between the steps it measures, or without embeddings). */
  measure(step: number, embeddings: [Tensor, Tensor] | undefined): Record<string, number> {
    if (!embeddings || step % this.every !== 0) return {};
    const m = collapseMetrics(embeddings[0], embeddings[1]);
    if (m.warning) this.print(`step ${step}: ${m.warning}`);
    return {
      'collapse/std': m.std, 'collapse/std_reference': m.stdReference, 'collapse/effective_rank': m.effectiveRank, 'collapse/uniformity': m.uniformity,
      ...(m.alignment !== undefined ? { 'collapse/alignment': m.alignment } : {}),
    };
  }
}
