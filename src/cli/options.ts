/**
 * Command-line options: node's util.parseArgs (strict: unknown options and missing values are
 * errors) plus typed readers that name the option when its value is wrong.
 */
import { parseArgs } from 'node:util';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }>;

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export function parseOptions<T extends OptionSpec>(argv: string[], spec: T): Record<keyof T, string | boolean | undefined> {
  try {
    return parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values as unknown as Record<keyof T, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Options and the positional arguments between them (`selfsup compare runs/a runs/b --out r.md`). */
export function parseWithPositionals<T extends OptionSpec>(argv: string[], spec: T): { values: Record<keyof T, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: true });
    return { values: values as unknown as Record<keyof T, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
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
