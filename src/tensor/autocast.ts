/**
 * Mixed precision on CPU (torch.autocast("cpu", dtype=torch.bfloat16)): inside `autocast`,
 * matrix products and convolutions run in bfloat16 while reductions and losses stay float32,
 * as libtorch's autocast lists decide. Parameters and gradients stay float32.
 *
 * ```ts
 * const loss = autocast(() => lossOf(model.forward(x)));   // forward in bfloat16
 * loss.backward();                                          // outside, as PyTorch recommends
 * ```
 */
import { native } from './native.js';

export function autocast<T>(fn: () => T, dtype: 'bfloat16' | 'float16' = 'bfloat16'): T {
  const previous = native.setCpuAutocast(true, dtype);
  try {
    return fn();
  } finally {
    native.setCpuAutocast(previous, dtype);
  }
}
