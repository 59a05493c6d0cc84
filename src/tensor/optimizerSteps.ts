/**
 * Optimizer updates over a list of parameters in one call into libtorch: the per-tensor
 * loop of PyTorch's single-tensor optimizers runs in C++, so a step costs one crossing
 * from JavaScript instead of ten per parameter.
 *
 * ```ts
 * adamwStep_(params, steps, m, v, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05 });
 * zeroGrads(params);
 * ```
 */
import { native } from './native.js';
import type { Tensor } from './tensor.js';

export interface AdamWHyper { lr: number; betas: [number, number]; eps: number; weightDecay: number }

/**
 * torch.optim.AdamW's update (Loshchilov & Hutter, 2019) of every parameter that has a
 * gradient, in place: `steps[i]` (a float64 scalar) counts its updates, `m[i]` and `v[i]`
 * are its first and second moments (shaped as the parameter).
 */
export function adamwStep_(params: Tensor[], steps: Tensor[], m: Tensor[], v: Tensor[], h: AdamWHyper): void {
  const handles = (ts: Tensor[]) => ts.map((t) => t.handle);
  native.adamwStep(handles(params), handles(steps), handles(m), handles(v), h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay);
}

/** Drops (or zeroes, `setToNone` false) the gradient of every tensor in `params`. */
export function zeroGrads(params: Tensor[], setToNone = true): void {
  native.zeroGrads(params.map((p) => p.handle), setToNone);
}
