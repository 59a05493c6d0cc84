/**
 * Layer-wise learning-rate decay (Clark et al., 2020, ELECTRA; used to fine-tune BEiT and MAE,
 * He et al., 2022, App. A.3): with L layers, the parameters of layer l (0 = the embeddings,
 * L + 1 = the final norm and the head) learn at decay^(L + 1 - l) of the base rate, so the layers
 * near the input, which pretraining made most general, move least. Groups keep the usual rule of
 * no weight decay on biases and norms (tensors of one dimension or fewer).
 *
 * ```ts
 * const groups = layerDecayGroups(model, 0.05, 0.75, (name) => vit.layerId(name.replace(/^backbone\./, '')), vit.blocks.length + 1);
 * const optimizer = new AdamW(groups, { lr: 1e-3 });   // setLearningRate applies each group's lrScale
 * ```
 */
import type { Module } from '../nn/index.js';
import type { ParamGroupInput } from './optimizer.js';

export interface LayerGroup extends ParamGroupInput {
  names: string[];
  weightDecay: number;
  lrScale: number;
}

/** `layerOf(name)` in [0, top]; parameters above `top` (a new head) learn at the full rate. */
export function layerDecayGroups(module: Module, weightDecay: number, decay: number, layerOf: (name: string) => number, top: number): LayerGroup[] {
  if (!(decay > 0 && decay <= 1)) throw new Error(`layerDecayGroups: decay must be in (0, 1], got ${decay}`);
  const groups = new Map<string, LayerGroup>();
  for (const [name, p] of module.namedParameters()) {
    if (!p.requiresGrad) continue;
    const layer = Math.min(layerOf(name), top);
    const wd = p.ndim <= 1 ? 0 : weightDecay;
    const key = `${layer}/${wd}`;
    let group = groups.get(key);
    if (!group) groups.set(key, group = { names: [], params: [], weightDecay: wd, lrScale: decay ** (top - layer) });
    group.names.push(name);
    group.params.push(p);
  }
  return [...groups.values()];
}
