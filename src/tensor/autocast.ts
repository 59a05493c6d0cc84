/**
 * Mixed precision (torch.autocast("cpu" | "cuda", dtype=torch.bfloat16), on the default device): inside `autocast`,
 * matrix products and convolutions run in bfloat16 while reductions and losses stay float32,
 * as libtorch's autocast lists decide. Parameters and gradients stay float32.
 *
 * ```ts
 * const loss = autocast(() => lossOf(model.forward(x)));   // forward in bfloat16
 * loss.backward();                                          // outside, as PyTorch recommends
 * ```
 */
import type { DType } from './dtype.js';
import { native } from './native.js';

export function autocast<T>(fn: () => T, dtype: 'bfloat16' | 'float16' = 'bfloat16'): T {
  // On the default device (see setDefaultDevice): torch.autocast("cuda") there, else the CPU's.
  const device = native.defaultDevice().startsWith('cuda') ? 'cuda' : 'cpu';
  const outerDtype = native.autocastDtype(device) as DType;
  const previous = native.setAutocast(device, true, dtype);
  try {
    return fn();
  } finally {
    native.setAutocast(device, previous, outerDtype);   // an outer region comes back with its own dtype
  }
}

/**
 * Runs `fn` with autocast off, its float inputs in float32 (`torch.autocast(device, enabled=False)`):
 * for a loss whose small similarity matrices decide the gradient (contrastive logits), where
 * bfloat16's 8-bit mantissa would cost accuracy and saves no time.
 */
export function fullPrecision<T>(fn: () => T): T {
  const device = native.defaultDevice().startsWith('cuda') ? 'cuda' : 'cpu';
  const outerDtype = native.autocastDtype(device) as DType;
  const previous = native.setAutocast(device, false, outerDtype);
  try {
    return fn();
  } finally {
    native.setAutocast(device, previous, outerDtype);
  }
}

/** The dtype autocast regions use on the default device ('bfloat16' unless a region asked for 'float16'). */
export function autocastDtype(): string {
  return native.autocastDtype(native.defaultDevice().startsWith('cuda') ? 'cuda' : 'cpu');
}
