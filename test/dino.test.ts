// DINO: the self-distillation loss and the centre by hand, and one step of the method.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dinoCenter, dinoLoss, ibotPatchCenter, ibotPatchLoss, koleoLoss, sinkhornKnopp, teacherTargets } from '../src/losses/index.js';
import { DINO, DINOv2, IBOT, forwardCrops } from '../src/methods/index.js';
import { vitTiny } from '../src/models/index.js';
import { Generator, type Tensor, cat, noGrad, rand, randn, tensor, zeros } from '../src/tensor/index.js';
import { assertClose, gradcheck } from './helpers/gradcheck.js';

const softmax = (v: number[], t: number) => { const e = v.map((x) => Math.exp(x / t)); const s = e.reduce((a, b) => a + b); return e.map((x) => x / s); };

describe('DINO', () => {
  test('the loss is the mean cross-entropy over pairs of different views, with a centred, sharpened teacher', () => {
    const s = [[1, 0, -1], [0.5, 0.5, 0], [0, 1, 2]]; // student outputs of 3 crops (2 global + 1 local), one image
    const t = [[2, 0, 0], [0, 1, 0]]; // teacher outputs of the 2 global crops
    const c = [0.5, 0.2, 0.1];
    const [ts, tt] = [0.1, 0.04];
    let total = 0;
    let pairs = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      const q = softmax(t[i].map((x, k) => x - c[k]), tt);
      const logP = softmax(s[j], ts).map(Math.log);
      total += -q.reduce((a, qk, k) => a + qk * logP[k], 0);
      pairs++;
    }
    const loss = dinoLoss(s.map((r) => tensor([r])), t.map((r) => tensor([r])), tensor([c]), { studentTemperature: ts, teacherTemperature: tt });
    assertClose([loss.item()], [total / pairs], 1e-5);
    const next = dinoCenter(tensor([c]), t.map((r) => tensor([r])), 0.9);
    assertClose(next.flatten().toArray() as number[], c.map((ck, k) => 0.9 * ck + 0.1 * (t[0][k] + t[1][k]) / 2), 1e-6);
    const g = new Generator(1);
    const a = rand([2, 4], { generator: g, dtype: 'float64' });
    const b = rand([2, 4], { generator: g, dtype: 'float64' });
    const teacher = [rand([2, 4], { generator: g, dtype: 'float64' }), rand([2, 4], { generator: g, dtype: 'float64' })];
    gradcheck((x, y) => dinoLoss([x, y], teacher, teacher[0].mean(0, true), { studentTemperature: 0.1, teacherTemperature: 0.04 }), [a, b]);
    assert.throws(() => dinoLoss([a], teacher, teacher[0], { studentTemperature: 0.1, teacherTemperature: 0.04 }), /global crops/);
  });

  test('a step with local crops: gradients reach the student only, the centre moves, the teacher temperature warms up', () => {
    const g = new Generator(2);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, generator: g });
    const dino = new DINO(vit, { featureDim: 32, outDim: 64, hiddenDim: 32, bottleneckDim: 16, generator: g });
    const views = [rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 8, 8], { generator: g })];
    const before = dino.center.clone();
    const { loss } = dino.step(views);
    loss.backward();
    assert.ok(vit.parameters().every((p) => p.grad !== null || !p.requiresGrad));
    assert.ok(dino.teacher.parameters().every((p) => p.grad === null && !p.requiresGrad));
    assert.ok(dino.center.sub(before).abs().max().item() > 0);
    dino.beforeUpdate(0);
    assert.ok(dino.student.projection.namedParameters().filter(([k]) => k.startsWith('last_layer')).every(([, p]) => p.grad === null));
    assertClose([dino.teacherTemperature()], [0.04]);
    dino.afterStep(0.15);
    assertClose([dino.teacherTemperature()], [0.055], 1e-9);
    dino.dispose();
  });

  test("iBOT's patch loss: cross-entropy at the masked patches only, averaged per image, then over images and crops", () => {
    // one crop, 2 images x 3 patches x K = 2; image 0 masks patches 0 and 2, image 1 none
    const s = [[[1, 0], [0, 3], [2, 2]], [[0, 1], [1, 0], [5, 5]]];
    const t = [[[0, 1], [9, 9], [1, 0]], [[1, 1], [0, 2], [3, 0]]];
    const c = [0.2, -0.1];
    const [ts, tt] = [0.1, 0.05];
    const ce = (sv: number[], tv: number[]) => {
      const q = softmax(tv.map((x, k) => x - c[k]), tt);
      return -softmax(sv, ts).map(Math.log).reduce((a, l, k) => a + q[k] * l, 0);
    };
    const expected = ((ce(s[0][0], t[0][0]) + ce(s[0][2], t[0][2])) / 2 + 0) / 2;
    const masks = [tensor([[1, 0, 1], [0, 0, 0]], { dtype: 'bool' })];
    const loss = ibotPatchLoss([tensor(s)], [tensor(t)], masks, tensor([c]), { studentTemperature: ts, teacherTemperature: tt });
    assertClose([loss.item()], [expected], 1e-5);
    const next = ibotPatchCenter(tensor([c]), [tensor(t)], 0.9);
    const mean = [0, 1].map((k) => t.flat().reduce((a, row) => a + row[k], 0) / 6);
    assertClose(next.flatten().toArray() as number[], c.map((ck, k) => 0.9 * ck + 0.1 * mean[k]), 1e-6);
    const g = new Generator(4);
    const a = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const teacher = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const m = tensor([[1, 1, 0], [0, 1, 1]], { dtype: 'bool' });
    gradcheck((x) => ibotPatchLoss([x], [teacher], [m], zeros([1, 4], { dtype: 'float64' }), { studentTemperature: 0.1, teacherTemperature: 0.04 }), [a]);
    assert.throws(() => ibotPatchLoss([a, a], [teacher], [m], teacher, { studentTemperature: 0.1, teacherTemperature: 0.04 }), /as many/);
  });

  test('an iBOT step: the masked share is in range, gradients reach the student and the mask token, both centres move', () => {
    const g = new Generator(5);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, generator: g });
    const ibot = new IBOT(vit, { featureDim: 32, outDim: 64, hiddenDim: 32, bottleneckDim: 16, generator: g, maskProbability: 1 });
    const masks = ibot.sampleMasks(200);
    const shares = masks.float().mean(1).toArray() as number[];
    assert.ok(shares.every((r) => r >= 0.1 - 1e-9 && r <= 0.5 + 1e-9), `mask shares ${Math.min(...shares)}..${Math.max(...shares)}`);
    const views = [rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 8, 8], { generator: g })];
    const [center, patchCenter] = [ibot.center.clone(), ibot.patchCenter.clone()];
    const { loss, metrics } = ibot.step(views);
    loss.backward();
    assertClose([loss.item()], [metrics!['ibot/cls_loss'] + metrics!['ibot/patch_loss']], 1e-5);
    assert.ok(metrics!['ibot/patch_loss'] > 0 && metrics!['ibot/masked_share'] >= 0.1);
    assert.ok(ibot.maskToken.grad !== null && ibot.maskToken.grad.abs().sum().item() > 0);
    assert.ok(vit.parameters().every((p) => p.grad !== null));
    assert.ok(ibot.teacher.parameters().every((p) => p.grad === null));
    assert.ok(ibot.center.sub(center).abs().max().item() > 0 && ibot.patchCenter.sub(patchCenter).abs().max().item() > 0);
    ibot.dispose();
  });

  test('crops of one size go through the network together, with the same outputs as one at a time', () => {
    const g = new Generator(6);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, generator: g });
    const crops = [rand([2, 3, 16, 16], { generator: g }), rand([2, 3, 16, 16], { generator: g }), rand([2, 3, 8, 8], { generator: g }), rand([2, 3, 8, 8], { generator: g })];
    const joint = forwardCrops(vit, crops);
    assert.equal(joint.length, 4);
    crops.forEach((c, i) => assertClose(joint[i].flatten().toArray() as number[], vit.forward(c).flatten().toArray() as number[], 1e-5));
    vit.dispose();
  });
});

describe('DINOv2', () => {
  test('Sinkhorn-Knopp targets: the codes of every global crop\'s rows together at the teacher temperature; the losses use them', () => {
    const g = new Generator(7);
    const teacher = [randn([3, 5], { generator: g }), randn([3, 5], { generator: g })];
    const student = [randn([3, 5], { generator: g }), randn([3, 5], { generator: g }), randn([3, 5], { generator: g })];
    const t = { studentTemperature: 0.1, teacherTemperature: 0.05 };
    const codes = sinkhornKnopp(cat(teacher, 0), { epsilon: 0.05, iterations: 3 }); // [6, 5]
    const targets = teacherTargets(teacher, 'sinkhorn', 0.05);
    assertClose(cat(targets, 0).flatten().toArray() as number[], codes.flatten().toArray() as number[], 1e-6);
    assertClose(codes.sum(1).toArray() as number[], [1, 1, 1, 1, 1, 1], 1e-5);
    // the loss by hand with those targets: the mean over the 4 pairs (i global target, j != i)
    const q = targets.map((x) => x.toArray() as number[][]);
    const logp = student.map((x) => x.div(0.1).logSoftmax(-1).toArray() as number[][]);
    let total = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      if (i !== j) total -= q[i].reduce((sum, row, b) => sum + row.reduce((a, v, k) => a + v * logp[j][b][k], 0), 0) / 3;
    }
    assertClose([dinoLoss(student, teacher, 'sinkhorn', t).item()], [total / 4], 1e-5);
    // the patch loss: codes of the masked patches of both crops together (2 + 1 rows), nothing elsewhere
    const patchesT = [randn([1, 4, 5], { generator: g }), randn([1, 4, 5], { generator: g })];
    const patchesS = [randn([1, 4, 5], { generator: g }), randn([1, 4, 5], { generator: g })];
    const masks = [tensor([[1, 0, 1, 0]], { dtype: 'bool' }), tensor([[0, 0, 0, 1]], { dtype: 'bool' })];
    const rows = sinkhornKnopp(cat([patchesT[0].select(1, 0), patchesT[0].select(1, 2), patchesT[1].select(1, 3)], 0), { epsilon: 0.05 }).toArray() as number[][];
    const ce = (row: number[], s: Tensor, n: number) => -row.reduce((a, v, k) => a + v * (s.select(1, n).div(0.1).logSoftmax(-1).toArray() as number[][])[0][k], 0);
    const expected = ((ce(rows[0], patchesS[0], 0) + ce(rows[1], patchesS[0], 2)) / 2 + ce(rows[2], patchesS[1], 3)) / 2;
    assertClose([ibotPatchLoss(patchesS, patchesT, masks, 'sinkhorn', t).item()], [expected], 1e-5);
  });

  test('a step: separate patch heads (the teacher\'s by EMA), KoLeo in the loss at 0.1, no centres moved', () => {
    const g = new Generator(8);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, layerScale: 1e-5, generator: g });
    const dinov2 = new DINOv2(vit, { featureDim: 32, outDim: 64, hiddenDim: 32, bottleneckDim: 16, generator: g, maskProbability: 1 });
    assert.notEqual(dinov2.studentPatchHead, dinov2.student.projection);
    assert.ok(dinov2.teacherPatchHead.parameters().every((p) => !p.requiresGrad));
    const views = [rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 16, 16], { generator: g }), rand([4, 3, 8, 8], { generator: g })];
    const { loss, metrics } = dinov2.step(views);
    loss.backward();
    assertClose([loss.item()], [metrics!['ibot/cls_loss'] + metrics!['ibot/patch_loss'] + 0.1 * metrics!['dinov2/koleo_loss']], 1e-5);
    assert.ok(dinov2.studentPatchHead.parameters().every((p) => p.grad !== null || !p.requiresGrad), 'the patch head learns from the patch loss');
    assert.ok(dinov2.student.projection.parameters().every((p) => p.grad !== null || !p.requiresGrad));
    assert.equal(dinov2.center.abs().sum().item() + dinov2.patchCenter.abs().sum().item(), 0, 'Sinkhorn-Knopp: the centres stay unused');
    const before = dinov2.teacherPatchHead.parameters()[0].clone();
    noGrad(() => { for (const p of dinov2.studentPatchHead.parameters()) p.add_(0.5); });
    dinov2.afterStep(0.5);
    assert.ok(dinov2.teacherPatchHead.parameters()[0].sub(before).abs().max().item() > 0, 'the teacher\'s patch head follows by EMA');
    dinov2.dispose();
    // unmasked images: KoLeo is that of the student's [CLS] features of each global crop, summed over the crops
    const plain = new DINOv2(vitTiny({ imageSize: 16, patchSize: 4, dim: 32, depth: 1, heads: 2, generator: g }), { featureDim: 32, outDim: 64, hiddenDim: 32, bottleneckDim: 16, generator: g, maskProbability: 0 });
    const step = plain.step(views);
    const expected = noGrad(() => views.slice(0, 2).map((v) => koleoLoss(plain.vit.forwardTokens(v).select(1, 0)).item()));
    assertClose([step.metrics!['dinov2/koleo_loss']], [expected[0] + expected[1]], 1e-5);
    assert.equal(step.metrics!['ibot/patch_loss'], 0, 'no masked patch, no patch loss');
    plain.dispose();
  });
});
