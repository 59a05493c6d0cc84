/**
 * Losses in float32, whatever bfloat16 autocast made of their inputs (heads under autocast give
 * bfloat16 embeddings): autocast is off inside, and the inputs are cast up, as reference code does
 * with `with torch.autocast(enabled=False): loss(z.float())`. The similarity matrices and sums a loss
 * takes are small next to the network, and with bfloat16's 8-bit mantissa they would round the
 * gradient signal of short runs away (MoCo v3 and BYOL on the demo images learned about 2 points less).
 *
 * ```ts
 * return inFloat32((f) => byolLoss(f(p), f(z)));
 * ```
 */
import { type Tensor, fullPrecision, tidy } from '../tensor/index.js';

export function inFloat32<T>(fn: (float: (t: Tensor) => Tensor) => T): T {
  return tidy(() => fullPrecision(() => fn((t) => (t.dtype === 'float32' || t.dtype === 'float64' ? t : t.float()))));
}
