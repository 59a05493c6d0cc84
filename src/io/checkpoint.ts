/**
 * Training checkpoints: everything a killed run needs to continue as if never stopped —
 * model parameters and buffers, optimizer state and hyper-parameters, the step, the
 * global random generator, and any JSON the caller adds (config, schedule and data-loader
 * position) — in one safetensors file written atomically, so a kill at any moment leaves
 * the previous checkpoint intact.
 *
 * ```ts
 * saveCheckpoint('runs/a/last.safetensors', { model, optimizer, step, extra: { config, loader } });
 * const { step, extra } = loadCheckpoint('runs/a/last.safetensors', { model, optimizer });
 * ```
 */
import type { Module } from '../nn/index.js';
import type { Optimizer } from '../optim/index.js';
import { type Generator, type Tensor, rngState, setRngState, tidy } from '../tensor/index.js';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from './safetensors.js';

const FORMAT = 'selfsup.checkpoint.v1';
type AnyOptimizer = Optimizer<{ lr: number; weightDecay: number }>;

export interface CheckpointContents {
  model: Module;
  optimizer?: AnyOptimizer;
  step: number;
  /** JSON-serialisable state of the caller: config, schedules, data order position, ... */
  extra?: Record<string, unknown>;
  /** named generators besides the global one (data order, augmentations, masks) */
  generators?: Record<string, Generator>;
}

export function saveCheckpoint(path: string, c: CheckpointContents): void {
  tidy(() => {
    const tensors = new Map<string, Tensor>();
    for (const [k, t] of c.model.stateDict()) tensors.set(`model.${k}`, t);
    const optimizer = c.optimizer?.stateDict();
    if (optimizer) for (const [k, t] of optimizer.tensors) tensors.set(`optimizer.${k}`, t);
    tensors.set('rng.global', rngState());
    for (const [name, g] of Object.entries(c.generators ?? {})) tensors.set(`rng.${name}`, rngState(g));
    const meta = {
      format: FORMAT,
      step: c.step,
      optimizer: optimizer ? { type: c.optimizer!.constructor.name, groups: optimizer.groups, stepCount: optimizer.stepCount } : null,
      extra: c.extra ?? {},
    };
    writeSafetensors(path, tensors, { selfsup: JSON.stringify(meta) });
  });
}

interface CheckpointMeta {
  format: string;
  step: number;
  optimizer: { type: string; groups: Record<string, unknown>[]; stepCount: number } | null;
  extra: Record<string, unknown>;
}

/** The checkpoint's own description, checked: format, a step and optimizer step count that are whole and not negative. */
function parseMeta(path: string, metadata: Record<string, string>): CheckpointMeta {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.selfsup ?? '');
  } catch {
    throw new Error(`${path}: not a selfsup checkpoint (no selfsup metadata; weights alone load with readSafetensors)`);
  }
  if (meta.format !== FORMAT) throw new Error(`${path}: checkpoint format ${meta.format}, expected ${FORMAT}`);
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(meta.step)) throw new Error(`${path}: corrupt checkpoint: step ${JSON.stringify(meta.step)}, expected a whole number >= 0`);
  if (meta.optimizer !== null && !(count(meta.optimizer?.stepCount) && Array.isArray(meta.optimizer?.groups))) {
    throw new Error(`${path}: corrupt checkpoint: optimizer state ${JSON.stringify(meta.optimizer).slice(0, 200)}`);
  }
  if (typeof meta.extra !== 'object' || meta.extra === null) meta.extra = {};
  return meta;
}

/** The step and the caller's JSON of a checkpoint, from its header alone (no tensors read). */
export function readCheckpointMetadata(path: string): { step: number; extra: Record<string, unknown> } {
  const meta = parseMeta(path, readSafetensorsMetadata(path));
  return { step: meta.step, extra: meta.extra };
}

/** Restores `model` (strictly: another architecture is an error naming the file) and `optimizer`. */
export function loadCheckpoint(
  path: string,
  into: { model: Module; optimizer?: AnyOptimizer; generators?: Record<string, Generator> },
): { step: number; extra: Record<string, unknown> } {
  return tidy(() => {
    const { tensors, metadata } = readSafetensors(path);
    const meta = parseMeta(path, metadata);
    const pick = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    try {
      into.model.loadStateDict(pick('model.'));
    } catch (error) {
      throw new Error(`${path}: the checkpoint does not fit this model: ${(error as Error).message}`);
    }
    if (into.optimizer) {
      if (meta.optimizer === null) throw new Error(`${path}: the checkpoint has no optimizer state`);
      if (meta.optimizer.type !== into.optimizer.constructor.name) {
        throw new Error(`${path}: the checkpoint's optimizer is ${meta.optimizer.type}, not ${into.optimizer.constructor.name}`);
      }
      into.optimizer.loadStateDict({ tensors: pick('optimizer.'), groups: meta.optimizer.groups, stepCount: meta.optimizer.stepCount });
    }
    const rng = tensors.get('rng.global');
    if (rng) setRngState(rng);
    for (const [name, g] of Object.entries(into.generators ?? {})) {
      const state = tensors.get(`rng.${name}`);
      if (state === undefined) throw new Error(`${path}: the checkpoint has no state for generator '${name}'`);
      setRngState(state, g);
    }
    return { step: meta.step, extra: meta.extra };
  });
}
