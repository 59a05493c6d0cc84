/**
 * Gradient mode and functional gradients.
 *
 * ```ts
 * noGrad(() => param.sub_(param.grad!, lr));   // an optimizer step outside the graph
 * const [dx] = gradients([y], [x]);            // torch.autograd.grad
 * ```
 */
import { native, type NativeHandle } from './native.js';
import { Tensor } from './tensor.js';

/** Runs `fn` with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with gradient recording on, e.g. inside a noGrad region (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export interface GradientsOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  /** build a graph of the gradients themselves (double backward) */
  createGraph?: boolean;
  /** inputs that do not affect the outputs get null instead of an error */
  allowUnused?: boolean;
}

/** d(outputs · gradOutputs)/d(inputs), without touching `.grad` (torch.autograd.grad). */
export function gradients(outputs: Tensor[], inputs: Tensor[], o: GradientsOptions = {}): (Tensor | null)[] {
  const grads = native.gradients(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    o.gradOutputs?.map((t) => t.handle),
    o.retainGraph,
    o.createGraph,
    o.allowUnused,
  ) as (NativeHandle | null)[];
  return grads.map((g) => (g === null ? null : new Tensor(g)));
}
