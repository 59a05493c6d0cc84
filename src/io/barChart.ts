/**
 * Grouped bar charts as PNG, for reports (`selfsup compare`): one group per metric, one bar per run,
 * values labelled, drawn as SVG and rasterised by sharp (librsvg), so no plotting library is needed.
 *
 * ```ts
 * await writeBarChart('compare.png', { title: 'accuracy (%)', groups: ['kNN', 'linear'], series: [{ name: 'simclr', values: [37, 45] }] });
 * ```
 */
import sharp from 'sharp';
import { atomicWriteFile } from './atomicWrite.js';

export interface BarChart {
  title: string;
  /** one group of bars per entry (a metric) */
  groups: string[];
  /** one bar per group for each series (a run); null where a run has no value */
  series: { name: string; values: (number | null)[] }[];
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The chart as SVG text. */
export function barChartSvg(chart: BarChart): string {
  const bar = 18;
  const groupWidth = Math.max(1, chart.series.length) * bar + 24;
  const [left, top, plotHeight] = [Math.max(50, 5.5 * Math.max(...chart.groups.map((g) => g.length), 1) * 0.8), 40, 220];
  const width = left + chart.groups.length * groupWidth + 20;
  const legendHeight = 18 * chart.series.length + 10;
  const labelSpace = 12 + 5.5 * Math.max(...chart.groups.map((g) => g.length), 1) * 0.6; // group labels at -35 degrees
  const height = top + plotHeight + labelSpace + legendHeight;
  const values = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1e-9, ...values.map((v) => Math.abs(v)));
  const y = (v: number) => top + plotHeight - (plotHeight * Math.max(0, v)) / max;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`, `<text x="${left}" y="20" font-size="14">${escape(chart.title)}</text>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - 10}" y2="${top + plotHeight}" stroke="#333"/>`];
  chart.groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + 12;
    chart.series.forEach((s, k) => {
      const v = s.values[g];
      if (v === null || !Number.isFinite(v)) return;
      const x = x0 + k * bar;
      parts.push(`<rect x="${x}" y="${y(v)}" width="${bar - 3}" height="${top + plotHeight - y(v)}" fill="${COLOURS[k % COLOURS.length]}"/>`);
      parts.push(`<text x="${x + (bar - 3) / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="9">${Number(v.toPrecision(3))}</text>`);
    });
    const [lx, ly] = [x0 + (chart.series.length * bar) / 2, top + plotHeight + 14];
    parts.push(`<text x="${lx}" y="${ly}" text-anchor="end" transform="rotate(-35 ${lx} ${ly})">${escape(group)}</text>`);
  });
  chart.series.forEach((s, k) => {
    const ly = top + plotHeight + labelSpace + 18 * k;
    parts.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${COLOURS[k % COLOURS.length]}"/>`, `<text x="${left + 18}" y="${ly}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function writeBarChart(path: string, chart: BarChart): Promise<void> {
  atomicWriteFile(path, [await sharp(Buffer.from(barChartSvg(chart))).png().toBuffer()]);
}
