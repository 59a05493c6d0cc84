/**
 * The backbone of a pretraining run, rebuilt from its checkpoint: the run's configuration (saved
 * in the checkpoint) names the architecture, the image size and the normalisation, and the
 * `backbone.*` weights are loaded strictly. Evaluation and export commands start here;
 * `loadRunMethod` rebuilds the whole method (heads, decoder) for the commands that need it.
 */
import { readSafetensors } from '../io/index.js';
import type { Layer } from '../nn/index.js';
import { type MethodName, type SSLMethod, buildMethod } from '../methods/index.js';
import { type BackboneSpec, buildBackbone } from '../models/index.js';
import { type Tensor, tidy } from '../tensor/index.js';
import { PretrainSchema, methodOptions, migrateRunConfig } from './runConfig.js';

/** What a run records about its data and backbone, beside its flags. */
export interface RunDescription {
  backboneSpec: BackboneSpec;
  normalize: { mean: number[]; std: number[] };
  size: number;
  method: string;
  /** the backbone's prefix in the method's state dict (default 'backbone') */
  backboneKey?: string;
  /** supervised pretraining: the classes of its labels */
  numClasses?: number;
  /** the folder pretraining ran in: relative data paths of its config are relative to it */
  cwd?: string;
}

interface RunCheckpoint {
  run: RunDescription;
  config: Record<string, unknown>;
  tensors: Map<string, Tensor>;
}

function readRunCheckpoint(checkpoint: string): RunCheckpoint {
  const { tensors, metadata } = readSafetensors(checkpoint);
  let config: (Record<string, unknown> & { run?: RunDescription }) | undefined;
  try {
    config = (JSON.parse(metadata.selfsup ?? '{}') as { extra?: { config?: Record<string, unknown> & { run?: RunDescription } } }).extra?.config;
  } catch {
    config = undefined;
  }
  if (!config?.run) {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`${checkpoint}: not a selfsup pretraining checkpoint (no run description in its metadata)`);
  }
  const broken = tidy(() => [...tensors].filter(([k, t]) => k.startsWith('model.') && (t.dtype.startsWith('float') || t.dtype === 'bfloat16') && t.isfinite().all().item() !== 1).map(([k]) => k.slice(6)));
  if (broken.length > 0) {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`${checkpoint}: ${broken.length} weight tensor${broken.length > 1 ? 's hold' : ' holds'} NaN or Inf values (${broken.slice(0, 3).join(', ')}${broken.length > 3 ? ', ...' : ''}): ` +
      'the run diverged; nothing measured on these weights would mean anything. Use an earlier checkpoint or retrain with a lower --lr');
  }
  return { run: config.run, config, tensors };
}

/** The tensors under `prefix` with the prefix removed. */
function under(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
  return out;
}

export function loadRunBackbone(checkpoint: string): { backbone: Layer; featureDim: number; run: RunDescription } {
  const { run, tensors } = readRunCheckpoint(checkpoint);
  try {
    const { backbone, featureDim } = buildBackbone(run.backboneSpec);
    tidy(() => { backbone.loadStateDict(under(tensors, `model.${run.backboneKey ?? 'backbone'}.`), { strict: true }); });
    return { backbone, featureDim, run };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** The whole method of a run (backbone, heads, decoder, momentum encoders) with its trained weights. */
export function loadRunMethod(checkpoint: string): { method: SSLMethod; run: RunDescription } {
  const { run, config, tensors } = readRunCheckpoint(checkpoint);
  try {
    const { run: _run, ...rest } = config;
    const parsed = PretrainSchema.safeParse(migrateRunConfig(rest));
    if (!parsed.success) throw new Error(`${checkpoint}: its run configuration no longer parses: ${parsed.error.issues[0]?.message}`);
    const { backbone, featureDim } = buildBackbone(run.backboneSpec);
    const method = buildMethod(run.method as MethodName, backbone, featureDim, { ...methodOptions(parsed.data, run.normalize), numClasses: run.numClasses });
    tidy(() => { method.loadStateDict(under(tensors, 'model.'), { strict: true }); });
    return { method, run };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/**
 * Weights to start a new run from (`selfsup pretrain --init`, continued pretraining on new data):
 * the run's description, its backbone's state and its whole method's state (heads, teacher, centre,
 * queue), for the caller to load; `dispose` frees them.
 */
export function readInitWeights(checkpoint: string): { run: RunDescription; backbone: Map<string, Tensor>; model: Map<string, Tensor>; dispose: () => void } {
  const { run, tensors } = readRunCheckpoint(checkpoint);
  return {
    run, backbone: under(tensors, `model.${run.backboneKey ?? 'backbone'}.`), model: under(tensors, 'model.'),
    dispose: () => { for (const t of tensors.values()) t.dispose(); },
  };
}

