/**
 * The backbone of a pretraining run, rebuilt from its checkpoint: the run's configuration (saved
 * in the checkpoint) names the architecture, the image size and the normalisation, and the
 * `backbone.*` weights are loaded strictly. Evaluation and export commands start here.
 */
import { readSafetensors } from '../io/index.js';
import type { Layer } from '../nn/index.js';
import { type BackboneSpec, buildBackbone } from '../models/index.js';
import { type Tensor, tidy } from '../tensor/index.js';

/** What a run records about its data and backbone, beside its flags. */
export interface RunDescription {
  backboneSpec: BackboneSpec;
  normalize: { mean: number[]; std: number[] };
  size: number;
  method: string;
  /** the backbone's prefix in the method's state dict (default 'backbone') */
  backboneKey?: string;
}

export function loadRunBackbone(checkpoint: string): { backbone: Layer; featureDim: number; run: RunDescription } {
  const { tensors, metadata } = readSafetensors(checkpoint);
  try {
    let run: RunDescription | undefined;
    try {
      run = (JSON.parse(metadata.selfsup ?? '{}') as { extra?: { config?: { run?: RunDescription } } }).extra?.config?.run;
    } catch {
      run = undefined;
    }
    if (!run) throw new Error(`${checkpoint}: not a selfsup pretraining checkpoint (no run description in its metadata)`);
    const { backbone, featureDim } = buildBackbone(run.backboneSpec);
    const prefix = `model.${run.backboneKey ?? 'backbone'}.`;
    const weights = new Map<string, Tensor>();
    for (const [k, t] of tensors) if (k.startsWith(prefix)) weights.set(k.slice(prefix.length), t);
    tidy(() => { backbone.loadStateDict(weights, { strict: true }); });
    return { backbone, featureDim, run };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
