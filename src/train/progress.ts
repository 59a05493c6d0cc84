/**
 * Progress of a long loop on stderr: on a terminal, one line rewritten in place with a bar,
 * images/s and the ETA; elsewhere (logs, CI) a plain line every `interval` seconds. A loop on a
 * time budget (`budgetSeconds`) shows the time spent of it instead of the steps of a total.
 *
 * ```ts
 * const progress = new Progress('pretrain', totalSteps, batchSize);
 * progress.update(step, { loss: 4.1 });
 * progress.done();
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  private readonly started = performance.now();
  private lastPrint = 0;
  private firstStep: number | null = null;
  private firstTime = 0;
  readonly tty: boolean;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly imagesPerStep: number,
    readonly o: { interval?: number; budgetSeconds?: number; stream?: NodeJS.WriteStream | { write(s: string): void; isTTY?: boolean } } = {},
  ) {
    this.tty = Boolean((o.stream ?? process.stderr).isTTY);
  }

  /** Images per second since the first update (steps before it are warm-up). */
  rate(step: number): number {
    if (this.firstStep === null || step <= this.firstStep) return NaN;
    return ((step - this.firstStep) * this.imagesPerStep) / ((performance.now() - this.firstTime) / 1000);
  }

  /** `step` steps are done (in `seconds` of the budget, for a loop on one). */
  update(step: number, metrics: Record<string, number> = {}, seconds = NaN): void {
    const now = performance.now();
    if (this.firstStep === null) {
      this.firstStep = step;
      this.firstTime = now;
    }
    const interval = (this.o.interval ?? (this.tty ? 0.2 : 10)) * 1000;
    const budget = this.o.budgetSeconds;
    const finished = budget !== undefined ? seconds >= budget : step >= this.total;
    if (now - this.lastPrint < interval && !finished) return;
    this.lastPrint = now;
    const rate = this.rate(step);
    const eta = budget !== undefined ? Math.max(0, budget - seconds) : ((this.total - step) * this.imagesPerStep) / rate;
    const shown = Object.entries(metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`).join('  ');
    const position = budget !== undefined ? `step ${step}, ${formatDuration(seconds)}/${formatDuration(budget)}` : `${step}/${this.total}`;
    const stats = `${position}  ${Number.isFinite(rate) ? rate.toFixed(1) : '?'} img/s  ETA ${formatDuration(eta)}  ${shown}`;
    const stream = this.o.stream ?? process.stderr;
    if (this.tty) {
      const width = 24;
      const filled = Math.min(width, Math.round(width * (budget !== undefined ? seconds / budget : step / Math.max(1, this.total))));
      stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}\x1b[K`);
    } else {
      stream.write(`${this.label} ${stats}\n`);
    }
  }

  done(): void {
    const stream = this.o.stream ?? process.stderr;
    if (this.tty) stream.write('\n');
    stream.write(`${this.label}: done in ${formatDuration((performance.now() - this.started) / 1000)}\n`);
  }
}
