/**
 * Gradient clipping by global norm (Pascanu et al., 2013), as torch.nn.utils.clip_grad_norm_:
 * when the 2-norm of all gradients together exceeds maxNorm, every gradient is scaled by
 * maxNorm / (norm + 1e-6). Returns the norm before clipping (worth logging).
 *
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 3.0);   // DINO clips at 3
 * ```
 */
import { type Tensor, noGrad, stack, tidy } from '../tensor/index.js';

export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => tidy(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    const total = stack(grads.map((g) => g.norm())).norm().item();
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    return total;
  }));
}
