// Line charts of a run's metrics (uPlot, bundled): one series per run, x = step. Each chart's box
// carries data-series (the metric) and data-points (how many points it draws), so a test or a
// person can check what is drawn.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MetricsRow } from './api';

/** Titles of the metrics the trainer logs (others are shown by their key). */
export const TITLES: Record<string, string> = {
  loss: 'loss', lr: 'learning rate', knn_top1: 'kNN top-1', img_per_s: 'images / s', weight_decay: 'weight decay',
  'collapse/std': 'std of normalised embeddings', 'collapse/effective_rank': 'effective rank',
};

export const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

export interface Series { label: string; rows: MetricsRow[] }

/** [steps, values] of the rows that have `key` as a number. */
function points(rows: MetricsRow[], key: string): [number[], (number | null)[]] {
  const kept = rows.filter((r) => typeof r[key] === 'number' && typeof r.step === 'number');
  return [kept.map((r) => r.step as number), kept.map((r) => r[key] as number)];
}

/** Several series on one x axis (the union of their steps), gaps where a series has no value. */
function aligned(series: Series[], key: string, reference?: string): uPlot.AlignedData {
  const perSeries = series.map((s) => points(s.rows, key));
  const refs = reference ? series.map((s) => points(s.rows, reference)) : [];
  const xs = [...new Set([...perSeries, ...refs].flatMap(([x]) => x))].sort((a, b) => a - b);
  const column = ([x, y]: [number[], (number | null)[]]) => {
    const at = new Map(x.map((step, i) => [step, y[i]]));
    return xs.map((step) => at.get(step) ?? null);
  };
  return [xs, ...perSeries.map(column), ...refs.map(column)];
}

export class MetricChart {
  readonly box: HTMLElement;
  private plot: uPlot | null = null;

  constructor(parent: HTMLElement, readonly key: string, readonly title = TITLES[key] ?? key, readonly reference?: { key: string; label: string }) {
    this.box = document.createElement('figure');
    this.box.className = 'chart';
    this.box.dataset.series = key;
    parent.append(this.box);
  }

  /** Draws (or redraws) the series; the chart counts the points of its metric, not of the reference line. */
  update(series: Series[]): void {
    const data = aligned(series, this.key, this.reference?.key);
    const count = series.reduce((n, s) => n + points(s.rows, this.key)[0].length, 0);
    this.box.dataset.points = String(count);
    const width = Math.max(280, this.box.clientWidth || 420);
    if (this.plot && this.plot.series.length === data.length) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.box.replaceChildren();
    const lines: uPlot.Series[] = series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: true }));
    if (this.reference) lines.push(...series.map(() => ({ label: this.reference!.label, stroke: '#999', dash: [6, 4], width: 1, spanGaps: true })));
    this.plot = new uPlot({ title: this.title, width, height: 220, scales: { x: { time: false } }, axes: [{ label: 'step' }, {}], series: [{ label: 'step' }, ...lines] }, data, this.box);
  }
}
