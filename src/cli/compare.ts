/**
 * `selfsup compare runs/a runs/b ... [--out report.md] [--plot compare.png]`: the runs side by side
 * as a Markdown table and bar charts: the pretraining (method, backbone, steps, images/s, hours,
 * parameters) and every evaluation report found as JSON in each run folder (write them there with
 * `--out runs/a/<name>.json`): kNN, linear probe (all labels and each `--labels` fraction),
 * fine-tuning and fine-tuning from scratch (the supervised baseline), robustness (mean accuracy
 * under corruption, mCE), adversarial accuracy per attack and budget, segmentation mIoU, detection
 * mAP, retrieval Recall@1 and mAP. A supervised-pretraining run (`--method supervised`) is a column like any other.
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { writeBarChart, writeTextFile } from '../io/index.js';
import { type MetricsRow, runDetail } from '../runs/index.js';
import { UsageError, parseWithPositionals } from './options.js';

type Report = Record<string, unknown> & { kind?: string };

interface RunColumn {
  name: string;
  facts: Record<string, string>;
  /** metric label -> value in percent (or a ratio for mCE) */
  metrics: Map<string, number>;
}

/** A data spec as a short name: 'fashion-mnist:test', 'cifar10-demo/test', 'cifar10-mini'. */
export function shortDataName(spec: string): string {
  const kind = /^([a-z0-9-]+):(.*)$/.exec(spec);
  const parts = (kind ? kind[2] : spec).split(/[\\/]+/).filter((p) => p !== '');
  const last = parts.slice(/^(train|test|val|validation)$/i.test(parts[parts.length - 1] ?? '') ? -2 : -1).join('/');
  return kind ? (last ? `${kind[1]}:${last}` : kind[1]) : last;
}

/** The metric rows a report gives, labelled as in the table (with the test data, so transfers to other data get their own rows). */
function metricsOf(report: Report): [string, number][] {
  const pct = (v: unknown) => (typeof v === 'number' ? 100 * v : NaN);
  const target = typeof report.test === 'string' ? ` on ${shortDataName(report.test)}` : '';
  const fraction = (typeof report.labelFraction === 'number' && report.labelFraction < 1 ? ` (${100 * report.labelFraction}% labels)` : '') + target;
  switch (report.kind) {
    case 'knn': return [[`kNN top-1${fraction}`, pct(report.top1)]];
    case 'linear': return [[`linear top-1${fraction}`, pct(report.top1)]];
    case 'finetune': return [[`${report.scratch ? 'from scratch' : 'fine-tune'} top-1${fraction}`, pct(report.top1)]];
    case 'robustness': {
      const rows: [string, number][] = [[`corrupted accuracy (${report.classifier})${target}`, pct(report.meanCorrupted)], [`clean accuracy (${report.classifier})${target}`, pct(report.clean)]];
      if (typeof report.mCE === 'number') rows.push([`mCE (${report.classifier})${target}`, report.mCE]);
      return rows;
    }
    case 'segmentation': return [['segmentation mIoU', pct(report.mIoU)]];
    case 'adversarial': {
      const epsilons = (report.epsilons as number[] | undefined) ?? [];
      const accuracy = (report.accuracy as Record<string, number[]> | undefined) ?? {};
      return [[`clean accuracy (${report.classifier})${target}`, pct(report.clean)],
        ...Object.entries(accuracy).flatMap(([attack, accs]) => epsilons.map((e, i): [string, number] => [`${attack.toUpperCase()} eps ${(255 * e).toFixed(0)}/255 (${report.classifier})${target}`, pct(accs[i])]))];
    }
    case 'detection': return [[`detection mAP@0.5 (${report.backbone})`, pct(report.mAP50)], [`detection mAP@[.5:.95] (${report.backbone})`, pct(report.mAP)]];
    case 'retrieval': {
      const recall = report.recall as Record<string, number> | undefined;
      return [['retrieval Recall@1', pct(recall?.['1'])], ['retrieval mAP', pct(report.mAP)]];
    }
    default: return [];
  }
}

function readRun(dir: string): RunColumn {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such run folder`);
  // read as the dashboard reads it (src/runs): half-written metrics lines and reports skipped
  const detail = runDetail(basename(dir), dir) as { method: unknown; backbone: unknown; summary: Report | null; metrics: MetricsRow[]; reports: { report: Report }[] };
  const summary = detail.summary ?? {};
  const facts: Record<string, string> = {
    method: String(detail.method ?? '?'), backbone: String(detail.backbone ?? '?'), steps: String(summary.steps ?? '?'),
    'images/s': typeof summary.imagesPerSecond === 'number' ? summary.imagesPerSecond.toFixed(1) : '?',
  };
  const cost = summary.cost as { parameters?: number } | undefined;
  if (cost?.parameters) facts.parameters = `${(cost.parameters / 1e6).toFixed(2)} M`;
  const times = detail.metrics.map((r) => r.time).filter((t): t is number => typeof t === 'number');
  if (times.length > 1) facts['hours (wall clock)'] = ((times[times.length - 1] - times[0]) / 3600).toFixed(3);
  const metrics = new Map<string, number>();
  for (const { report } of detail.reports) for (const [label, value] of metricsOf(report)) if (Number.isFinite(value)) metrics.set(label, value);
  return { name: basename(dir), facts, metrics };
}

export const COMPARE_USAGE = `usage: selfsup compare <run folder> <run folder> ... [--out report.md] [--plot compare.png]

  Reads each run's config.json, summary.json, metrics.jsonl and every eval report (*.json with a
  "kind") in the folder; prints a Markdown table of the runs side by side and draws bar charts.`;

export async function compareCommand(argv: string[]): Promise<void> {
  const { values, positionals: dirs } = parseWithPositionals(argv, { out: { type: 'string' }, plot: { type: 'string' } });
  if (dirs.length === 0) throw new UsageError('expected run folders to compare');
  const runs = dirs.map(readRun);
  const factKeys = [...new Set(runs.flatMap((r) => Object.keys(r.facts)))];
  const metricKeys = [...new Set(runs.flatMap((r) => [...r.metrics.keys()]))];
  const header = `| | ${runs.map((r) => r.name).join(' | ')} |\n|---|${runs.map(() => '---').join('|')}|`;
  const row = (label: string, cell: (r: RunColumn) => string) => `| ${label} | ${runs.map(cell).join(' | ')} |`;
  const format = (label: string, v: number | undefined) => (v === undefined ? '' : label.startsWith('mCE') ? v.toFixed(3) : `${v.toFixed(2)}%`);
  const markdown = [`# selfsup compare: ${runs.map((r) => r.name).join(', ')}`, '', header,
    ...factKeys.map((k) => row(k, (r) => r.facts[k] ?? '')),
    ...metricKeys.map((k) => row(k, (r) => format(k, r.metrics.get(k)))), ''].join('\n');
  if (typeof values.out === 'string') writeTextFile(values.out, markdown);
  console.log(markdown);
  if (typeof values.plot === 'string') {
    const percent = metricKeys.filter((k) => !k.startsWith('mCE'));
    await writeBarChart(values.plot, { title: 'evaluations (%)', groups: percent, series: runs.map((r) => ({ name: r.name, values: percent.map((k) => r.metrics.get(k) ?? null) })) });
    console.log(`wrote ${values.plot}: ${percent.length} metrics x ${runs.length} runs`);
  }
}
