/**
 * Command-line options: node's util.parseArgs (strict: unknown options and missing values are
 * errors) plus typed readers that name the option when its value is wrong.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { refuseRunFile } from '../io/index.js';
import { maxThreads, setNumThreads } from '../tensor/index.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Options that name a file a command writes. */
const OUTPUT_OPTIONS = ['out', 'picture', 'plot'];

/** Refuses, before any work, output paths that are a run's own files (see io/runFolder.ts). */
export function checkOutputPaths(...paths: string[]): void {
  try {
    for (const path of paths) refuseRunFile(path);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function parseOptions<T extends OptionSpec>(argv: string[], spec: T): Record<keyof T, string | boolean | undefined> {
  let values: Record<keyof T, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values as unknown as Record<keyof T, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  checkOutputPaths(...OUTPUT_OPTIONS.map((name) => values[name]).filter((v): v is string => typeof v === 'string'));
  return values;
}

/** Options and the positional arguments between them (`selfsup compare runs/a runs/b --out r.md`). */
export function parseWithPositionals<T extends OptionSpec>(argv: string[], spec: T): { values: Record<keyof T, string | boolean | undefined>; positionals: string[] } {
  let parsed: { values: Record<keyof T, string | boolean | undefined>; positionals: string[] };
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: true });
    parsed = { values: values as unknown as Record<keyof T, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  checkOutputPaths(...OUTPUT_OPTIONS.map((name) => parsed.values[name]).filter((v): v is string => typeof v === 'string'));
  return parsed;
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function integerOption(values: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(v)}'`);
  return n;
}

export function numberOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--${name} must be a positive number, got '${String(v)}'`);
  return n;
}

export function choiceOption<C extends string>(values: Record<string, unknown>, name: string, choices: readonly C[], fallback: C): C {
  const v = values[name];
  if (v === undefined) return fallback;
  if (!choices.includes(v as C)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  return v as C;
}

/** An integer option from `min` to 4 x the cores (threads, loader workers): more only thrash, and thousands hang or exhaust memory. */
export function perCoreOption(values: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const n = integerOption(values, name, fallback, min);
  if (n > maxThreads()) throw new UsageError(`--${name} ${n}: at most ${maxThreads()} (4 x the ${availableParallelism()} cores of this machine)`);
  return n;
}

/** `--threads <n>`: libtorch's threads for this process, when given. */
export function applyThreadsOption(values: Record<string, unknown>): void {
  if (values.threads !== undefined) setNumThreads(perCoreOption(values, 'threads', 1));
}
