// I-JEPA: the multi-block masks (rectangular targets of one size, a context without them), the
// predictor's block-major batching, its last block (mask tokens only) against every token through
// every block, the loss by hand, a step whose gradient reaches the images only
// through the context patches and whose loss equals the hand computation, the linear EMA schedule,
// and a few steps that lower the loss.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jepaLoss } from '../src/losses/index.js';
import { IJEPA, buildMethod, methodRecipe, methodViews } from '../src/methods/index.js';
import { JEPAPredictor, gatherTokens, vitTiny } from '../src/models/index.js';
import { AdamW, linearMomentum } from '../src/optim/index.js';
import { Generator, type Tensor, cat, keep, layerNorm, noGrad, rand, tensor, tidy } from '../src/tensor/index.js';
import { type MultiBlockMask, multiBlockMask } from '../src/transforms/index.js';
import { assertClose, gradcheck } from './helpers/gradcheck.js';

const tinyVit = (seed = 0) => vitTiny({ imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2, posEmbed: 'sincos', pool: 'mean', generator: new Generator(seed) });
const ids = (t: { toArray(): unknown }) => t.toArray() as number[][];

describe('I-JEPA', () => {
  test('multi-block masks: targets are rectangles of one size, the context is ascending, equal in length and free of the targets', () => {
    for (const [grid, o] of [[8, { targets: 2 }], [14, {}]] as const) {
      const { context, targets } = multiBlockMask(6, grid, grid, o, new Generator(3));
      const [m, b, t] = targets.shape;
      assert.deepEqual([m, b], [o.targets ?? 4, 6]);
      assert.equal(context.size(0), 6);
      assert.ok(context.size(1) > 0);
      const blocks = targets.toArray() as number[][][];
      for (let image = 0; image < b; image++) {
        const hidden = new Set<number>();
        for (let k = 0; k < m; k++) {
          const rows = blocks[k][image].map((id) => Math.floor(id / grid));
          const cols = blocks[k][image].map((id) => id % grid);
          const [h, w] = [Math.max(...rows) - Math.min(...rows) + 1, Math.max(...cols) - Math.min(...cols) + 1];
          assert.equal(h * w, t, 'a target block fills its bounding rectangle');
          assert.equal(new Set(blocks[k][image]).size, t);
          assert.ok(h < grid && w < grid);
          blocks[k][image].forEach((id) => hidden.add(id));
        }
        const kept = ids(context)[image];
        assert.deepEqual(kept, [...kept].sort((x, y) => x - y));
        assert.equal(new Set(kept).size, kept.length);
        assert.ok(kept.every((id) => id >= 0 && id < grid * grid && !hidden.has(id)), `image ${image}: the context holds a target patch`);
      }
      // 15-20% of the grid per target block
      assert.ok(t >= Math.floor(0.15 * grid * grid) - grid && t <= Math.ceil(0.2 * grid * grid) + grid, `target of ${t} patches`);
    }
    const again = (seed: number) => { const { context, targets } = multiBlockMask(4, 8, 8, {}, new Generator(seed)); return JSON.stringify([ids(context), targets.toArray()]); };
    assert.equal(again(1), again(1));
    assert.notEqual(again(1), again(2));
    assert.throws(() => multiBlockMask(2, 8, 8, { targetScale: [0.3, 0.2] }), /targetScale must be \[low, high\] within \(0, 1\]/);
    assert.throws(() => multiBlockMask(2, 1, 1), /at least 2 x 2/);
  });

  test('the predictor batches its target blocks block-major: each row is that block\'s own prediction from its image\'s context', () => {
    const predictor = new JEPAPredictor({ encoderDim: 16, grid: 4, dim: 8, depth: 2, heads: 2, generator: new Generator(0) });
    tidy(() => noGrad(() => {
      const context = rand([2, 3, 16], { generator: new Generator(1) });
      const contextIds = tensor([[0, 5, 9], [2, 3, 15]], { dtype: 'int64' });
      const targetIds = tensor([[[1, 2], [4, 8]], [[6, 7], [10, 11]]], { dtype: 'int64' }); // [M 2, B 2, T 2]
      const all = predictor.forward(context, contextIds, targetIds);
      assert.deepEqual(all.shape, [4, 2, 16]);
      for (const [block, image] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const one = predictor.forward(context.slice(0, image, image + 1), contextIds.slice(0, image, image + 1), targetIds.slice(0, block, block + 1).slice(1, image, image + 1));
        assertClose(one.flatten().toArray() as number[], all.select(0, block * 2 + image).flatten().toArray() as number[], 1e-5);
      }
    }));
  });

  test('the predictor\'s last block computes the mask tokens only: predictions and gradients are those of every token through every block', () => {
    const predictor = new JEPAPredictor({ encoderDim: 16, grid: 4, dim: 8, depth: 2, heads: 2, generator: new Generator(2) });
    const contextIds = tensor([[0, 5, 9], [2, 3, 15]], { dtype: 'int64' });
    const targetIds = tensor([[[1, 2], [4, 8]], [[6, 7], [10, 11]]], { dtype: 'int64' }); // [M 2, B 2, T 2]
    const gradients = (predict: (context: Tensor) => Tensor) => tidy(() => {
      predictor.zeroGrad();
      const context = rand([2, 3, 16], { generator: new Generator(3) }).requiresGrad_(true);
      const predicted = predict(context);
      predicted.mul(rand(predicted.shape, { generator: new Generator(4) })).sum().backward();
      return [predicted, context.grad!, ...predictor.parameters().filter((p) => p.requiresGrad).map((p) => p.grad!)].map((t) => t.flatten().toArray() as number[]);
    });
    // the reference's predictor: context and mask tokens through every block, the context's outputs dropped at the end
    const everyToken = (context: Tensor) => {
      const table = predictor.posEmbed.squeeze(0);
      const x = predictor.embed.forward(context).add(table.indexSelect(0, contextIds.flatten()).reshape(2, 3, 8));
      const queries = predictor.maskToken.add(table.indexSelect(0, targetIds.flatten()).reshape(4, 2, 8));
      const h = predictor.blocks.reduce((s, blk) => blk.forward(s), cat([x.repeat(2, 1, 1), queries], 1));
      return predictor.proj.forward(predictor.norm.forward(h).slice(1, 3));
    };
    const expected = gradients(everyToken);
    const ours = gradients((context) => predictor.forward(context, contextIds, targetIds));
    assert.equal(ours[0].length, 4 * 2 * 16);
    expected.forEach((e, i) => assertClose(ours[i], e, 1e-5));
  });

  test('the loss is the mean squared (or smooth L1) distance; gradients check, and none reach the targets', () => {
    const pred = tensor([[[1, 2], [3, 5]]]);
    const target = tensor([[[0, 0], [1, 2.5]]]);
    assertClose([jepaLoss(pred, target).item()], [(1 + 4 + 4 + 6.25) / 4], 1e-6);
    // smooth L1 (beta 1): 0.5 d^2 below 1, |d| - 0.5 above
    assertClose([jepaLoss(pred, target, 'smoothL1').item()], [(0.5 + 1.5 + 1.5 + 2) / 4], 1e-6);
    const g = new Generator(4);
    const p64 = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const t64 = rand([2, 3, 4], { generator: g, dtype: 'float64' }).requiresGrad_(true);
    gradcheck((a) => jepaLoss(a, t64), [p64]);
    const p = rand([2, 3, 4], { generator: g }).requiresGrad_(true);
    jepaLoss(p, t64.float()).backward();
    assert.ok(p.grad !== null && t64.grad === null);
    assert.throws(() => jepaLoss(rand([2, 3, 4]), rand([2, 3, 5])), /one shape \[M \* B, T, D\]/);
  });

  test('a step: gradients reach the images through the context patches only, never the target encoder; the loss is the hand computation', () => {
    const vit = tinyVit();
    const ijepa = new IJEPA(vit, { targets: 2, generator: new Generator(1) });
    let masks: MultiBlockMask | undefined;
    const draw = ijepa.drawMasks.bind(ijepa);
    ijepa.drawMasks = (batch) => { masks = draw(batch); keep(masks.context); keep(masks.targets); return masks; }; // kept past the step's scope
    tidy(() => {
      const images = rand([3, 3, 16, 16], { generator: new Generator(2) }).requiresGrad_(true);
      const { loss } = ijepa.step([images]);
      loss.backward();
      const { context, targets } = masks!;
      // by hand, from the captured masks
      const expected = noGrad(() => {
        const [m, b, t] = targets.shape;
        const patches = ijepa.target.forwardTokens(images).slice(1, 1);
        const wanted = gatherTokens(layerNorm(patches, [16]).repeat(m, 1, 1), targets.reshape(m * b, t));
        return jepaLoss(ijepa.predictor.forward(vit.forwardVisible(images, context).slice(1, 1), context, targets), wanted).item();
      });
      assertClose([loss.item()], [expected], 1e-5);
      // the images' gradient per patch [3, 16]: non-zero exactly where the context is
      const perPatch = images.grad!.abs().reshape(3, 3, 4, 4, 4, 4).sum([1, 3, 5]).reshape(3, 16).toArray() as number[][];
      const kept = ids(context);
      perPatch.forEach((row, image) => row.forEach((g, patch) => assert.equal(g > 0, kept[image].includes(patch), `image ${image}, patch ${patch}: gradient ${g}`)));
      assert.ok(ijepa.target.parameters().every((p) => !p.requiresGrad && p.grad === null));
      assert.ok(ijepa.predictor.parameters().every((p) => !p.requiresGrad || p.grad !== null));
      context.dispose();
      targets.dispose();
    });
    // the target encoder follows linearly from 0.996 to 1
    assertClose([linearMomentum(0.996, 0), linearMomentum(0.996, 0.5), linearMomentum(0.996, 1)], [0.996, 0.998, 1], 1e-12);
    const before = ijepa.target.patchEmbed.proj.weight.flatten().toArray() as number[];
    tidy(() => noGrad(() => vit.patchEmbed.proj.weight.add_(1)));
    ijepa.afterStep(0);
    const online = vit.patchEmbed.proj.weight.flatten().toArray() as number[];
    const moved = before.map((w, i) => 0.996 * w + 0.004 * online[i]);
    assertClose(ijepa.target.patchEmbed.proj.weight.flatten().toArray() as number[], moved, 1e-5);
    ijepa.afterStep(1); // momentum 1 at the end: the target stays
    assertClose(ijepa.target.patchEmbed.proj.weight.flatten().toArray() as number[], moved, 1e-6);
    ijepa.dispose();
  });

  test('the masks follow the seed and the batches drawn, which the state dict keeps: a restored method draws what the original draws next', () => {
    const vit = tinyVit();
    const original = new IJEPA(vit, { generator: new Generator(3) });
    const masks = (m: MultiBlockMask) => { const text = JSON.stringify([m.context.toArray(), m.targets.toArray()]); m.context.dispose(); m.targets.dispose(); return text; };
    const first = masks(original.drawMasks(4));
    assert.notEqual(masks(original.drawMasks(4)), first, 'each batch its own masks');
    const state = new Map([...original.stateDict()].map(([k, t]) => [k, t.clone()])); // as a checkpoint holds it
    assert.deepEqual(state.get('masks_drawn')?.toArray(), [2]);
    const next = masks(original.drawMasks(4));
    const restored = new IJEPA(tinyVit(), { generator: new Generator(3) });
    assert.equal(masks(restored.drawMasks(4)), first, 'the same seed draws the same first masks');
    restored.loadStateDict(state);
    assert.equal(masks(restored.drawMasks(4)), next);
    const otherSeed = new IJEPA(tinyVit(), { generator: new Generator(4) });
    assert.notEqual(masks(otherSeed.drawMasks(4)), first);
    for (const m of [original, restored, otherSeed]) m.dispose();
  });

  test('its recipe: one view without pixel augmentations, a sin-cos ViT pooled by the mean; ViT only; 30 AdamW steps lower the loss', () => {
    const recipe = methodRecipe('ijepa', 'vit_tiny');
    assert.deepEqual(recipe.vitOptions, { posEmbed: 'sincos', pool: 'mean' });
    const { views, mask } = methodViews('ijepa', { size: 16 });
    assert.equal(views.length, 1);
    assert.equal(mask, undefined);
    assert.deepEqual(Object.keys(views[0]).filter((k) => /jitter|grayscale|blur|solarize|flip/i.test(k) && (views[0] as unknown as Record<string, unknown>)[k]), []);
    assert.throws(() => methodRecipe('ijepa', 'resnet18'), /ViT/);
    const vit = tinyVit(5);
    const ijepa = buildMethod('ijepa', vit, vit.dim, { decoderDim: 8, decoderDepth: 1 }, new Generator(6));
    const optimizer = new AdamW(ijepa.parameterGroups(0.04), { lr: 3e-3, weightDecay: 0.04 });
    const images = rand([16, 3, 16, 16], { generator: new Generator(7) });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      tidy(() => {
        const { loss } = ijepa.step([images], null);
        losses.push(loss.item());
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
      });
      ijepa.afterStep(step / 30);
    }
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    assert.ok(mean(losses.slice(-5)) < 0.7 * mean(losses.slice(0, 5)), `loss ${losses.slice(0, 5).map((l) => l.toFixed(3))} -> ${losses.slice(-5).map((l) => l.toFixed(3))}`);
    images.dispose();
    optimizer.dispose();
    ijepa.dispose();
  });
});
