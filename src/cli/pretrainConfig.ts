/**
 * The configuration of `selfsup pretrain`, from a YAML/JSON file and/or flags (flags win), checked
 * with the run schema (runs/runConfig.ts) before any work: unknown keys, wrong types and impossible
 * values are refused with the key named. Defaults follow the method's paper, scaled to the data.
 *
 * ```yaml
 * method: simclr
 * backbone: resnet18
 * data: cifar10:data/cifar-10-batches-bin
 * epochs: 200
 * batchSize: 256
 * out: runs/simclr-cifar10
 * ```
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { BUDGET_RECIPE_NAMES, BUDGET_RECIPES, type PretrainConfig, PretrainSchema, RUN_IDENTITY_KEYS } from '../runs/index.js';
import { UsageError } from './options.js';

/** One line per problem, naming the key. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')} (see selfsup pretrain --help)`;
    }
    const key = issue.path.join('.') || '(config)';
    return `${key}: ${issue.message}`;
  }).join('\n');
}

/** A flag's string value as the JSON type it spells (numbers, booleans), else the string. */
function flagValue(v: string | boolean): unknown {
  if (typeof v === 'boolean') return v;
  if (/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The config from a whole-run recipe (`--recipe cpu-30min`, runs/budgetRecipes.ts), overridden by
 * `--config file` (YAML or JSON), overridden by flags (`--batch-size 128`).
 */
export function readPretrainConfig(flags: Record<string, string | boolean | undefined>): PretrainConfig {
  let fromFile: Record<string, unknown> = {};
  const file = flags.config;
  if (typeof file === 'string') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--config ${file}: ${(error as Error).message}`);
    }
    try {
      fromFile = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) ?? {};
    } catch (error) {
      throw new UsageError(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new UsageError(`${file}: expected a mapping of keys to values`);
  }
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [k, v] of Object.entries(flags)) if (k !== 'config' && v !== undefined) merged[camel(k)] = flagValue(v);
  if (merged.recipe !== undefined) {
    const recipe = Object.hasOwn(BUDGET_RECIPES, String(merged.recipe)) ? BUDGET_RECIPES[String(merged.recipe)] : undefined;
    if (!recipe) throw new UsageError(`recipe '${String(merged.recipe)}': unknown (expected one of ${BUDGET_RECIPE_NAMES.join(', ')})`);
    for (const [k, v] of Object.entries(recipe.config)) if (!(k in merged)) merged[k] = v;
  }
  const parsed = PretrainSchema.safeParse(merged);
  if (!parsed.success) throw new UsageError(`bad configuration${typeof file === 'string' ? ` (${file} and flags)` : ''}:\n${formatIssues(parsed.error)}`);
  const unknown = parsed.data.allowChanged.filter((k) => !RUN_IDENTITY_KEYS.includes(k));
  if (unknown.length > 0) throw new UsageError(`allowChanged: ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a setting of the run (expected some of ${RUN_IDENTITY_KEYS.join(', ')})`);
  return parsed.data;
}

/** Flags of `selfsup pretrain`: every schema key in kebab-case, plus --config. */
export function pretrainFlags(): Record<string, { type: 'string' | 'boolean' }> {
  const flags: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const key of Object.keys(PretrainSchema.shape)) {
    const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    flags[kebab] = { type: ['resume', 'overwrite', 'mixedPrecision', 'freezePatchProjection', 'normalizePixels', 'inMemory', 'headBatchNorm', 'normLastLayer'].includes(key) ? 'boolean' : 'string' };
  }
  return flags;
}
