// Loss functions against values computed by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ntXentLoss } from '../src/losses/index.js';
import { Generator, randn, tensor } from '../src/tensor/index.js';
import { assertClose, gradcheck } from './helpers/gradcheck.js';

describe('NT-Xent (SimCLR)', () => {
  test('equals the hand-computed value on two images in 2-D', () => {
    // Unit embeddings: view 1 = (1, 0), (0, 1); view 2 = (0.6, 0.8), (0.8, 0.6) scaled by 5 (normalised away).
    const z1 = tensor([[1, 0], [0, 1]]);
    const z2 = tensor([[3, 4], [4, 3]]);
    const t = 0.5;
    const u = [[1, 0], [0, 1], [0.6, 0.8], [0.8, 0.6]];
    const sim = (i: number, k: number) => (u[i][0] * u[k][0] + u[i][1] * u[k][1]) / t;
    let total = 0;
    for (let i = 0; i < 4; i++) {
      const positive = (i + 2) % 4;
      let denominator = 0;
      for (let k = 0; k < 4; k++) if (k !== i) denominator += Math.exp(sim(i, k));
      total += -Math.log(Math.exp(sim(i, positive)) / denominator);
    }
    assertClose([ntXentLoss(z1, z2, t).item()], [total / 4], 1e-6);
  });
  test('low when views agree and differ from the others, high when they do not; gradient checks', () => {
    const z = randn([8, 16], { generator: new Generator(1) });
    const agree = ntXentLoss(z, z.mul(2), 0.1).item();
    const shuffled = ntXentLoss(z, z.flip(0), 0.1).item();
    assert.ok(agree < 0.05 && shuffled > 2, `agree ${agree}, shuffled ${shuffled}`);
    const a = randn([4, 3], { generator: new Generator(2), dtype: 'float64' });
    const b = randn([4, 3], { generator: new Generator(3), dtype: 'float64' });
    gradcheck((x, y) => ntXentLoss(x, y, 0.3), [a, b]);
  });
  test('refuses mismatched shapes and a non-positive temperature', () => {
    assert.throws(() => ntXentLoss(randn([4, 3]), randn([5, 3])), /two embeddings \[N, D\] of the same shape/);
    assert.throws(() => ntXentLoss(randn([4, 3]), randn([4, 3]), 0), /temperature must be positive/);
  });
});
