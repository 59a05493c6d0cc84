// DINO: the self-distillation loss and the centre by hand, and one step of the method.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dinoCenter, dinoLoss, ibotPatchCenter, ibotPatchLoss } from '../src/losses/index.js';
import { DINO, IBOT, forwardCrops } from '../src/methods/index.js';
import { vitTiny } from '../src/models/index.js';
import { Generator, rand, tensor, zeros } from '../src/tensor/index.js';
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

