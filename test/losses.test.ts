// Loss functions against values computed by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  barlowTwinsLoss, byolLoss, fastSiamLoss, infoNceLoss, mocoV3Loss, nearestNeighbours, negativeCosine, nnclrLoss, ntXentLoss, sinkhornKnopp, swavLoss, vicregLoss, koleoLoss,
} from '../src/losses/index.js';
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

describe('joint-embedding losses by hand', () => {
  const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);

  test('InfoNCE with a queue (MoCo v2) and the in-batch contrastive loss (MoCo v3)', () => {
    const q = [[1, 0], [0, 2]];
    const k = [[3, 4], [0, 1]];
    const queue = [[1, 1], [-1, 0], [0, -1]];
    const t = 0.2;
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      const logits = [cos(q[i], k[i]), ...queue.map((n) => cos(q[i], n))].map((v) => v / t);
      expected += -logits[0] + Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    }
    assertClose([infoNceLoss(tensor(q), tensor(k), tensor(queue), t).item()], [expected / 2], 1e-5);
    let v3 = 0;
    for (let i = 0; i < 2; i++) {
      const logits = k.map((kj) => cos(q[i], kj) / t);
      v3 += -logits[i] + Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    }
    assertClose([mocoV3Loss(tensor(q), tensor(k), t).item()], [(v3 / 2) * 2 * t], 1e-5);
  });

  test('negative cosine (SimSiam) and 2 - 2 cos (BYOL); the stop-gradient stops the gradient', () => {
    const p = [[1, 0], [1, 1]];
    const z = [[0, 1], [2, 2]];
    assertClose([negativeCosine(tensor(p), tensor(z)).item()], [-(cos(p[0], z[0]) + cos(p[1], z[1])) / 2], 1e-6);
    assertClose([byolLoss(tensor(p), tensor(z)).item()], [(2 - 2 * cos(p[0], z[0]) + 2 - 2 * cos(p[1], z[1])) / 2], 1e-6);
    const target = tensor(z).requiresGrad_();
    const prediction = tensor(p).requiresGrad_();
    negativeCosine(prediction, target).backward();
    assert.equal(target.grad, null, 'no gradient reaches the target');
    assert.ok(prediction.grad !== null);
    const free = tensor(z).requiresGrad_();
    negativeCosine(tensor(p).requiresGrad_(), free, { stopGradient: false }).backward();
    assert.ok(free.grad !== null);
  });

  test('Barlow Twins: identical standardised views give only the off-diagonal term', () => {
    // Two dimensions over 4 samples, standardised by hand: columns a and b.
    const z = [[1, 2], [2, 1], [3, 4], [4, 3]];
    const standard = (col: number) => {
      const xs = z.map((r) => r[col]);
      const mean = xs.reduce((s, v) => s + v, 0) / 4;
      const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / 4 + 1e-5);
      return xs.map((v) => (v - mean) / sd);
    };
    const [a, b] = [standard(0), standard(1)];
    const c = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0) / 4;
    const expected = (1 - c(a, a)) ** 2 + (1 - c(b, b)) ** 2 + 5e-3 * 2 * c(a, b) ** 2;
    assertClose([barlowTwinsLoss(tensor(z), tensor(z)).item()], [expected], 1e-6);
  });

  test('VICReg: invariance, variance hinge and covariance by hand', () => {
    const z1 = [[0, 0], [2, 1], [4, 0], [2, -1]];
    const z2 = [[0, 1], [2, 1], [4, 1], [2, 1]];
    const out = vicregLoss(tensor(z1), tensor(z2));
    const invariance = z1.flatMap((r, i) => r.map((v, j) => (v - z2[i][j]) ** 2)).reduce((s, v) => s + v, 0) / 8;
    const column = (z: number[][], j: number) => z.map((r) => r[j]);
    const variance = (xs: number[]) => { const m = xs.reduce((s, v) => s + v, 0) / xs.length; return xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1); };
    const hinge = (z: number[][]) => [0, 1].map((j) => Math.max(0, 1 - Math.sqrt(variance(column(z, j)) + 1e-4))).reduce((s, v) => s + v, 0) / 2;
    const covariance = (z: number[][]) => {
      const [x, y] = [column(z, 0), column(z, 1)];
      const [mx, my] = [x.reduce((s, v) => s + v, 0) / 4, y.reduce((s, v) => s + v, 0) / 4];
      const cxy = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0) / 3;
      return (2 * cxy ** 2) / 2;
    };
    assertClose([out.invariance.item(), out.variance.item(), out.covariance.item()], [invariance, (hinge(z1) + hinge(z2)) / 2, covariance(z1) + covariance(z2)], 1e-5);
    assertClose([out.loss.item()], [25 * invariance + 25 * (hinge(z1) + hinge(z2)) / 2 + covariance(z1) + covariance(z2)], 1e-4);
  });
});

describe('NNCLR, FastSiam and SwAV losses by hand', () => {
  const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
  const unit = (a: number[]) => a.map((v) => v / Math.hypot(...a));

  test('NNCLR: the nearest row of the support set is the positive, the other predictions the negatives', () => {
    const support = [[1, 0], [0, 1], [-0.6, 0.8]].map(unit);
    const z = [[2, 0.5], [-1, 1.2]];                    // nearest rows: 0, then 2
    const p = [[0.3, 1], [1, -0.2]];
    const neighbours = nearestNeighbours(tensor(z), tensor(support));
    assertClose(Array.from(neighbours.data<Float32Array>()), [...support[0], ...support[2]], 1e-6);
    const t = 0.1;
    let expected = 0;
    [support[0], support[2]].forEach((nn, i) => {
      const logits = p.map((pk) => cos(nn, pk) / t);
      expected += -logits[i] + Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    });
    assertClose([nnclrLoss(neighbours, tensor(p), t).item()], [expected / 2], 1e-5);
    const nn = tensor(support.slice(0, 2), { dtype: 'float64' });
    gradcheck((x) => nnclrLoss(nn, x, 0.5), [randn([2, 2], { generator: new Generator(4), dtype: 'float64' })]);
  });

  test('FastSiam: each prediction against the mean of the other views\' projections', () => {
    const p = [[[1, 0]], [[0, 1]], [[1, 1]]];
    const z = [[[2, 0]], [[0, 3]], [[-1, 1]]];
    let expected = 0;
    for (let i = 0; i < 3; i++) {
      const others = z.filter((_, j) => j !== i).map((v) => v[0]);
      const mean = [0, 1].map((d) => (others[0][d] + others[1][d]) / 2);
      expected -= cos(p[i][0], mean);
    }
    assertClose([fastSiamLoss(p.map((v) => tensor(v)), z.map((v) => tensor(v))).item()], [expected / 3], 1e-6);
    const zs = [0, 1, 2].map((i) => randn([3, 4], { generator: new Generator(10 + i), dtype: 'float64' }));
    gradcheck((a, b, c) => fastSiamLoss([a, b, c], zs), [0, 1, 2].map((i) => randn([3, 4], { generator: new Generator(20 + i), dtype: 'float64' })));
    assert.throws(() => fastSiamLoss([tensor([[1, 0]])], [tensor([[1, 0]])]), /at least 2/);
  });

  test('SwAV: Sinkhorn-Knopp as the reference loop, and the swapped prediction', () => {
    const scores = [[0.9, 0.1, -0.2], [0.8, 0.3, 0.1], [-0.5, 0.7, 0.2], [0.0, -0.3, 0.95]];
    const [eps, iterations] = [0.05, 3];
    // the reference: Q = exp(S / eps)^T, Q /= sum; 3 x (rows to 1/K, columns to 1/B); Q *= B; transposed
    let q = scores[0].map((_, k) => scores.map((row) => Math.exp(row[k] / eps)));   // [K][B]
    const [K, B] = [3, 4];
    const total = q.flat().reduce((s, v) => s + v, 0);
    q = q.map((row) => row.map((v) => v / total));
    for (let it = 0; it < iterations; it++) {
      q = q.map((row) => { const s = row.reduce((a, v) => a + v, 0); return row.map((v) => v / s / K); });
      const columns = q[0].map((_, b) => q.reduce((a, row) => a + row[b], 0));
      q = q.map((row) => row.map((v, b) => v / columns[b] / B));
    }
    const codes = scores.map((_, b) => q.map((row) => row[b] * B));                 // [B][K]
    const ours = sinkhornKnopp(tensor(scores), { epsilon: eps, iterations });
    assertClose(Array.from(ours.data<Float32Array>()), codes.flat(), 1e-5);
    // swapped prediction over 3 crops, codes for the first 2
    const crops = [scores, scores.map((r) => [r[1], r[2], r[0]]), scores.map((r) => [r[2], r[0], r[1]])];
    const c = [codes, codes.map((r) => [r[2], r[0], r[1]])];
    const t = 0.1;
    const logSoftmax = (row: number[]) => { const m = Math.log(row.reduce((s, v) => s + Math.exp(v / t), 0)); return row.map((v) => v / t - m); };
    let expected = 0;
    for (let i = 0; i < 2; i++) {
      for (let v = 0; v < 3; v++) {
        if (v === i) continue;
        expected -= crops[v].reduce((s, row, b) => s + logSoftmax(row).reduce((a, l, k) => a + c[i][b][k] * l, 0), 0) / B;
      }
    }
    assertClose([swavLoss(crops.map((s) => tensor(s)), c.map((s) => tensor(s)), t).item()], [expected / 4], 1e-4);
    const fixedCodes = [0, 1].map(() => tensor(codes, { dtype: 'float64' }));
    gradcheck((a, b) => swavLoss([a, b], fixedCodes, 0.5), [0, 1].map((i) => randn([4, 3], { generator: new Generator(30 + i), dtype: 'float64' })));
  });
});

describe('DINOv2\'s KoLeo regulariser by hand', () => {
  test('minus the mean log distance of each normalised feature to its nearest neighbour; gradient checks', () => {
    // on the unit circle at 0, 90 and 180 degrees (lengths 2, 3, 0.5: normalised first) every nearest neighbour is sqrt(2) away
    const points = tensor([[2, 0], [0, 3], [-0.5, 0]]);
    assertClose([koleoLoss(points).item()], [-Math.log(Math.SQRT2)], 1e-6);
    // four points: at 0, 30, 90 and 180 degrees; neighbours 30 -> 0, 0 -> 30, 90 -> 30, 180 -> 90
    const deg = [0, 30, 90, 180].map((d) => (d * Math.PI) / 180);
    const chord = (a: number) => 2 * Math.sin(a / 2);
    const expected = -[chord(deg[1]), chord(deg[1]), chord(deg[2] - deg[1]), chord(Math.PI / 2)].reduce((s, d) => s + Math.log(d), 0) / 4;
    assertClose([koleoLoss(tensor(deg.map((a) => [Math.cos(a), Math.sin(a)]))).item()], [expected], 1e-5);
    gradcheck((x) => koleoLoss(x), [randn([6, 4], { generator: new Generator(40), dtype: 'float64' })]);
    assert.throws(() => koleoLoss(tensor([[1, 0]])), /B >= 2/);
  });
});
