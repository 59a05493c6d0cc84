/**
 * Gradient check against central finite differences, in float64 (as torch.autograd.gradcheck):
 * for a scalar probe s = sum(f(x) * w) with a fixed random w, every element of every input
 * is nudged by ±eps and (s(x+eps) - s(x-eps)) / 2eps is compared with autograd's ds/dx.
 */
import assert from 'node:assert/strict';
import { Generator, Tensor, randn, tensor, tidy } from '../../src/tensor/index.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** seed for the probe weights */
  seed?: number;
}

/** Random float64 input with a fixed seed (values in roughly [-2, 2]). */
export function input(shape: number[], seed = 1, transform?: (t: Tensor) => Tensor): Tensor {
  return tidy(() => {
    const t = randn(shape, { dtype: 'float64', generator: new Generator(seed) });
    return transform ? transform(t) : t;
  });
}

function probe(fn: (...xs: Tensor[]) => Tensor | Tensor[], xs: Tensor[], weights: Tensor[] | null): { value: number; outs: Tensor[] } {
  const out = fn(...xs);
  const outs = Array.isArray(out) ? out : [out];
  if (weights === null) return { value: NaN, outs };
  let total = 0;
  outs.forEach((o, i) => { total += o.mul(weights[i]).sum().item(); });
  return { value: total, outs };
}

export function gradcheck(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], o: GradcheckOptions = {}): void {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-5;
  const rtol = o.rtol ?? 1e-3;
  tidy(() => {
    for (const x of inputs) assert.equal(x.dtype, 'float64', 'gradcheck inputs must be float64');
    const leaves = inputs.map((x) => x.detach().clone().requiresGrad_());
    // Analytic gradients of s = sum_k sum(out_k * w_k).
    const { outs } = probe(fn, leaves, null);
    const gen = new Generator(o.seed ?? 7);
    const weights = outs.map((out) => randn(out.shape as number[], { dtype: 'float64', generator: gen }));
    let s: Tensor | null = null;
    outs.forEach((out, i) => {
      const term = out.mul(weights[i]).sum();
      s = s === null ? term : s.add(term);
    });
    (s as unknown as Tensor).backward();
    inputs.forEach((x, i) => {
      const analyticT = leaves[i].grad;
      const base = Float64Array.from(x.data() as Float64Array);
      const analytic = analyticT ? (analyticT.data() as Float64Array) : new Float64Array(base.length);
      for (let k = 0; k < base.length; k++) {
        const at = (delta: number): number => tidy(() => {
          const nudged = Float64Array.from(base);
          nudged[k] += delta;
          const xs = inputs.map((y, j) => (j === i ? tensor(nudged, { shape: x.shape, dtype: 'float64' }) : y));
          return probe(fn, xs, weights).value;
        });
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const diff = Math.abs(numeric - analytic[k]);
        assert.ok(
          diff <= atol + rtol * Math.abs(numeric),
          `input ${i} element ${k}: autograd ${analytic[k]} vs finite difference ${numeric} (|diff| ${diff.toExponential(2)})`,
        );
      }
    });
  });
}

/** Asserts that nested numeric arrays match within tol. */
export function assertClose(actual: unknown, expected: unknown, tol = 1e-5, path = 'value'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, tol, `${path}[${i}]`));
    return;
  }
  const a = actual as number;
  const e = expected as number;
  if (Number.isNaN(e)) {
    assert.ok(Number.isNaN(a), `${path}: expected NaN, got ${a}`);
    return;
  }
  if (!Number.isFinite(e)) {
    assert.equal(a, e, `${path}`);
    return;
  }
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${path}: expected ${e}, got ${a}`);
}
