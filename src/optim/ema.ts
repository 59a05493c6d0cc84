/**
 * Exponential moving averages of a network's weights: the momentum (key) encoder of MoCo, the
 * target network of BYOL, the teacher of DINO. `momentumEncoder` makes the frozen copy;
 * `emaUpdate` moves it towards the online network, target = m * target + (1 - m) * online, and
 * copies the buffers (batch-norm statistics); `cosineMomentum` is BYOL's schedule
 * m = 1 - (1 - base) (cos(pi progress) + 1) / 2, from base to 1 (Grill et al., 2020, Sec. 3.2);
 * `linearMomentum` is I-JEPA's straight line from base to 1.
 *
 * ```ts
 * const target = momentumEncoder(online);
 * emaUpdate(target, online, cosineMomentum(0.996, step / totalSteps));
 * ```
 */
import type { Module } from '../nn/index.js';
import { noGrad, tidy } from '../tensor/index.js';

export function momentumEncoder<M extends Module>(online: M): M {
  const copy = online.clone();
  for (const p of copy.parameters()) p.requiresGrad_(false);
  return copy;
}

export function emaUpdate(target: Module, online: Module, momentum: number): void {
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`emaUpdate: momentum must be in [0, 1], got ${momentum}`);
  const source = new Map([...online.namedParameters(), ...online.namedBuffers()]);
  noGrad(() => tidy(() => {
    for (const [name, p] of target.namedParameters()) {
      const o = source.get(name);
      if (!o) throw new Error(`emaUpdate: the online network has no '${name}'`);
      p.mul_(momentum).add_(o, 1 - momentum);
    }
    for (const [name, b] of target.namedBuffers()) b.copy_(source.get(name)!);
  }));
}

export function cosineMomentum(base: number, progress: number): number {
  return 1 - ((1 - base) * (Math.cos(Math.PI * Math.min(1, Math.max(0, progress))) + 1)) / 2;
}

/** I-JEPA's schedule (Assran et al., 2023, Sec. 4): the momentum rises linearly from base to 1 over the run. */
export function linearMomentum(base: number, progress: number): number {
  return base + (1 - base) * Math.min(1, Math.max(0, progress));
}
