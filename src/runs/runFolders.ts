/**
 * What the dashboard reads from run folders, and nothing else: the runs under the folders it was
 * given (a folder with metrics.jsonl, or config.json and a checkpoint, is a run; else its sub-folders that are), each
 * run's metrics (one JSON object per line; a corrupt or half-written line is skipped and counted,
 * so a run can be read while it writes), config, summary, cost estimate, evaluation reports and
 * pictures, and single files inside a run folder by a relative path that cannot leave it.
 *
 * ```ts
 * const runs = findRuns(['runs/']);                      // Map name -> folder
 * const { rows, skipped } = readMetrics(runs.get('simclr')!);
 * const file = fileInRun(runs.get('simclr')!, 'views.png');   // null for '../x', '/etc/passwd', links out
 * ```
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { readRegularFileSync } from '../io/index.js';

/** The most a run file may hold to be read (metrics of very long runs fit; a link to /dev/zero does not). */
const MAX_RUN_FILE_BYTES = 512 * 2 ** 20;

/** A run file's text; a file that is not regular (a FIFO, a device) or too large is an Error, never a wait. */
export function readRunText(path: string): string {
  return readRegularFileSync(path, MAX_RUN_FILE_BYTES).toString('utf8');
}

/** A run folder has the trainer's metrics, or a config beside a checkpoint (an exported model's config.json alone is not a run). */
const isRun = (dir: string) => existsSync(join(dir, 'metrics.jsonl')) || (existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'checkpoint.safetensors')));

/** Run name -> folder, for the given folders (each a run, or a folder of runs). */
export function findRuns(roots: string[]): Map<string, string> {
  const runs = new Map<string, string>();
  const add = (dir: string) => {
    let name = basename(dir);
    if (runs.has(name)) name = `${basename(dirname(dir))}/${name}`;
    runs.set(name, dir);
  };
  for (const root of roots) {
    const dir = resolve(root);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${root}: not a folder (expected a run folder or a folder of runs)`);
    if (isRun(dir)) add(dir);
    else for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) if (isRun(join(dir, entry))) add(join(dir, entry));
  }
  return runs;
}

export type MetricsRow = Record<string, number | boolean | null>;

/** The metrics lines of a run; lines that are not a JSON object (corrupt, half-written) are skipped and counted. */
export function readMetrics(dir: string): { rows: MetricsRow[]; skipped: number } {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return { rows: [], skipped: 0 };
  const rows: MetricsRow[] = [];
  let skipped = 0;
  let text: string;
  try {
    text = readRunText(path);
  } catch {
    return { rows: [], skipped: 1 };   // not a regular file: nothing to read, counted
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const row = JSON.parse(line) as unknown;
      if (typeof row === 'object' && row !== null && !Array.isArray(row)) rows.push(row as MetricsRow);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { rows, skipped };
}

const readJson = (path: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(readRunText(path)) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** A run's list entry: what it is and how far it got (from its metrics rows, when the caller has read them). */
export function runSummary(name: string, dir: string, rows = readMetrics(dir).rows): Record<string, unknown> {
  const config = readJson(join(dir, 'config.json')) ?? {};
  const losses = rows.filter((r) => typeof r.loss === 'number');
  const knn = rows.filter((r) => typeof r.knn_top1 === 'number');
  const metricsFile = join(dir, 'metrics.jsonl');
  const updated = existsSync(metricsFile) ? statSync(metricsFile).mtimeMs : null;
  const run = config.run as { backboneSpec?: { name?: string } } | undefined;
  return {
    name, method: config.method ?? null, backbone: run?.backboneSpec?.name ?? config.backbone ?? null,
    steps: losses.length > 0 ? losses[losses.length - 1].step : 0, loss: losses.length > 0 ? losses[losses.length - 1].loss : null,
    knnTop1: knn.length > 0 ? knn[knn.length - 1].knn_top1 : null, updated, finished: existsSync(join(dir, 'summary.json')),
  };
}

const PICTURE = /\.(png|jpe?g|svg)$/i;

/** Everything the detail view shows: config, summary, cost, metrics, evaluation reports (JSON with a "kind"), pictures. */
export function runDetail(name: string, dir: string): Record<string, unknown> {
  const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
  const reports = files.filter((f) => f.endsWith('.json') && !['config.json', 'summary.json', 'cost.json'].includes(f))
    .map((f) => ({ file: f, report: readJson(join(dir, f)) })).filter((r) => typeof r.report?.kind === 'string');
  const { rows, skipped } = readMetrics(dir);
  return {
    ...runSummary(name, dir, rows), config: readJson(join(dir, 'config.json')), summary: readJson(join(dir, 'summary.json')),
    cost: readJson(join(dir, 'cost.json')), metrics: rows, skippedLines: skipped, reports, pictures: files.filter((f) => PICTURE.test(f)),
  };
}

/**
 * The file at `relative` inside the run folder `dir`, or null when the path is absolute, has a '..'
 * segment, or resolves (through links) outside the folder.
 */
export function fileInRun(dir: string, relative: string): string | null {
  if (relative === '' || relative.includes('\0') || isAbsolute(relative) || /^[a-zA-Z]:/.test(relative)) return null;
  if (relative.split(/[\\/]/).some((part) => part === '..')) return null;
  const root = realpathSync(dir);
  const target = resolve(root, relative);
  if (!existsSync(target)) return null;
  const real = realpathSync(target);
  if (!real.startsWith(root + sep) || !statSync(real).isFile()) return null;
  return real;
}
