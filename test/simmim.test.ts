// SimMIM: the L1 loss by hand, the masks of squares its recipe asks for, a ViT whose masked patches
// are invisible to it, a ResNet whose stem output takes the mask token, and both learning to fill in.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskedReconstructionLoss } from '../src/losses/index.js';
import { SimMIM, methodViews } from '../src/methods/index.js';
import { patchify, resnet18, spreadCells, unpatchify, vitTiny } from '../src/models/index.js';
import { AdamW } from '../src/optim/index.js';
import { Generator, noGrad, rand, tensor, tidy, where, zeros } from '../src/tensor/index.js';
import { masksFor } from '../src/transforms/index.js';
import { assertClose, gradcheck } from './helpers/gradcheck.js';

const tinyVit = () => vitTiny({ imageSize: 16, patchSize: 4, dim: 16, depth: 1, heads: 2, layerScale: 0.1, pool: 'mean', generator: new Generator(0) });
const tinyResNet = () => resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(0) });

describe('SimMIM', () => {
  test('the loss is the mean absolute error over the masked patches\' pixels only; gradient checks', () => {
    const pred = tensor([[[1, 2], [3, 5]]]);
    const target = tensor([[[0, 0], [1, 4]]]);
    const mask = tensor([[0, 1]], { dtype: 'bool' });
    assertClose([maskedReconstructionLoss(pred, target, mask, { distance: 'absolute' }).item()], [(Math.abs(3 - 1) + Math.abs(5 - 4)) / 2], 1e-6);
    const g = new Generator(4);
    const p64 = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    const t64 = rand([2, 3, 4], { generator: g, dtype: 'float64' });
    gradcheck((a) => maskedReconstructionLoss(a, t64, tensor([[1, 0, 1], [0, 0, 1]], { dtype: 'bool' }), { distance: 'absolute' }), [p64]);
  });

  test('a grid of squares spreads over a finer grid, each square over factor x factor cells', () => {
    const cells = tensor([[[1, 0], [0, 1]]], { dtype: 'bool' });
    assert.deepEqual(spreadCells(cells, 2).toArray(), [[[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]]); // bool read back as 0 / 1
    assert.throws(() => spreadCells(cells, 1.5), /a whole factor/);
  });

  test('its recipe masks 60% of the squares of 2x2 patches: 10 of 16 8-px squares at 32 px, 30 of 49 32-px squares at 224 px', () => {
    for (const [size, side, masked] of [[32, 4, 10], [224, 7, 30]]) {
      const { mask } = methodViews('simmim', { size });
      assert.deepEqual(mask, { kind: 'random', patchSize: size / side, ratio: 0.6 });
      const masks = masksFor(mask!, 3, size, new Generator(1));
      assert.deepEqual(masks.shape, [3, side * side]);
      assert.deepEqual(masks.sum(1).toArray(), [masked, masked, masked]);
      masks.dispose();
    }
  });

  test('on a ViT: masked patches are replaced before the encoder sees them, and the step\'s loss is L1 on their pixels', () => {
    const vit = tinyVit();
    const simmim = new SimMIM(vit, { generator: new Generator(1) });
    tidy(() => {
      const images = rand([2, 3, 16, 16], { generator: new Generator(2) });
      const mask = tensor([[1, 0, 0, 1], [0, 1, 1, 0]], { dtype: 'bool' }); // 2x2 squares of 8 px, each 2x2 patches
      const patchMask = tensor([
        [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1],
        [0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0],
      ], { dtype: 'bool' });
      // new pixels under the masked squares only: the encoding does not change
      const pixelMask = unpatchify(patchMask.unsqueeze(-1).expand(2, 16, 48).float(), 4).bool();
      const altered = where(pixelMask, rand([2, 3, 16, 16], { generator: new Generator(3) }), images);
      const tokens = noGrad(() => vit.forwardMasked(images, patchMask, simmim.maskToken));
      assert.ok(tokens.equal(noGrad(() => vit.forwardMasked(altered, patchMask, simmim.maskToken))));
      // the loss by hand: the head's pixels for every patch, the absolute error averaged over the masked pixels
      const predicted = unpatchify(noGrad(() => simmim.head.forward(tokens.slice(1, 1))), 4); // [2, 3, 16, 16]
      const expected = predicted.sub(images).abs().mul(pixelMask.float()).sum().div(pixelMask.float().sum()).item();
      assertClose([noGrad(() => simmim.step([images], mask).loss.item())], [expected], 1e-5);
    });
    assert.throws(() => simmim.step([rand([2, 3, 16, 16])], zeros([2, 64], { dtype: 'bool' })), /must each cover whole 4-px patches/);
    simmim.dispose();
  });

  test('on a ResNet: the stem\'s output under masked squares is the mask token (a whole masked image gives one map); an empty mask changes nothing', () => {
    const resnet = tinyResNet();
    resnet.eval();
    const simmim = new SimMIM(resnet, { generator: new Generator(1) });
    assert.equal(simmim.unit, 8);
    assert.deepEqual(simmim.maskToken.shape, [1, resnet.stemChannels, 1, 1]);
    tidy(() => noGrad(() => {
      const images = rand([2, 3, 16, 16], { generator: new Generator(2) });
      const none = zeros([2, 2, 2], { dtype: 'bool' });
      assert.ok(resnet.forwardMaskedMap(images, none, simmim.maskToken).sub(resnet.forwardMap(images)).abs().max().item() < 1e-6);
      const all = none.logicalNot();
      const map = resnet.forwardMaskedMap(images, all, simmim.maskToken); // [2, C, 2, 2]
      assert.ok(map.select(0, 0).sub(map.select(0, 1)).abs().max().item() < 1e-6, 'both images are all mask token');
      assert.ok(map.select(0, 0).sub(resnet.forwardMap(images).select(0, 0)).abs().max().item() > 1e-3);
      assert.throws(() => resnet.forwardMaskedMap(images, zeros([2, 3, 3], { dtype: 'bool' }), simmim.maskToken), /g dividing the stem's output side 16/);
    }));
    simmim.dispose();
  });

  for (const [name, backbone] of [['ViT', tinyVit], ['ResNet', tinyResNet]] as const) {
    test(`on a ${name}: a few AdamW steps on one batch lower the masked-pixel loss by a third`, () => {
      const simmim = new SimMIM(backbone(), { generator: new Generator(1) });
      const optimizer = new AdamW(simmim.parameters(), { lr: 3e-3, weightDecay: 0.05 });
      const images = rand([8, 3, 16, 16], { generator: new Generator(2) });
      const mask = masksFor({ kind: 'random', patchSize: 8, ratio: 0.6 }, 8, 16, new Generator(3));
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        losses.push(tidy(() => {
          const { loss } = simmim.step([images], mask);
          loss.backward();
          return loss.item();
        }));
        if (i === 0) assert.ok(tidy(() => simmim.maskToken.grad!.abs().sum().item()) > 0, 'the mask token learns');
        optimizer.step();
        optimizer.zeroGrad();
      }
      assert.ok(losses[29] < (2 / 3) * losses[0], `${name}: loss ${losses[0]} -> ${losses[29]}`);
      for (const t of [images, mask]) t.dispose();
      optimizer.dispose();
      simmim.dispose();
    });
  }
});
