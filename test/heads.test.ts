// SSL heads: projection MLPs, DINO head, MAE decoder, BEiT head.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BEiTHead, DINOHead, MAEDecoder, mocoV3Projection, simclrProjection, simsiamProjection, vitTiny } from '../src/models/index.js';
import { Generator, arange, linear, normalize, randn, tensor, tidy, zeros } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('heads', () => {
  test('projection MLPs have the papers\' shapes', () => {
    const simclr = simclrProjection(512);
    assert.deepEqual(simclr.forward(randn([4, 512])).shape, [4, 128]);
    assert.equal(simclr.parameterCount(), 512 * 2048 + 2 * 2048 + 2048 * 128 + 128);
    assert.deepEqual(simsiamProjection(64, 32).forward(randn([4, 64])).shape, [4, 32]);
    assert.deepEqual(mocoV3Projection(64, 32, 16).forward(randn([4, 64])).shape, [4, 16]);
  });
  test('DINO head: normalised bottleneck, unit-norm prototypes, frozen norm', () => {
    const head = new DINOHead(16, 10, { hidden: 32, bottleneck: 8, generator: new Generator(0) });
    assert.deepEqual(head.namedParameters().map(([k]) => k),
      ['mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias', 'mlp.4.weight', 'mlp.4.bias', 'last_layer.weight_v', 'last_layer.weight_g']);
    assert.equal(head.lastLayer.weightG.requiresGrad, false);
    const x = randn([3, 16], { generator: new Generator(1) });
    const y = head.forward(x);
    const expected = tidy(() => {
      const z = normalize(head.mlp.forward(x), { dim: -1 });
      const w = normalize(head.lastLayer.weightV, { dim: 1 });
      return linear(z, w);
    });
    assertClose(y.toArray(), expected.toArray(), 1e-5);
    assert.ok(y.abs().max().item() <= 1 + 1e-5, 'cosine scores between a unit vector and unit prototypes');
    y.sum().backward();
    assert.notEqual(head.lastLayer.weightV.grad, null);
    head.dropLastLayerGradients();
    assert.equal(head.lastLayer.weightV.grad, null);
    assert.notEqual(head.mlp.layers[0].parameters()[0].grad, null, 'the MLP keeps its gradients');
  });
  test('MAE decoder restores patch order and predicts every patch', () => {
    const vit = vitTiny({ imageSize: 16, patchSize: 4, depth: 1, dim: 32, heads: 2 }).eval();
    const decoder = new MAEDecoder({ encoderDim: 32, patches: 16, patchSize: 4, dim: 16, depth: 1, heads: 2, generator: new Generator(2) });
    const keys = decoder.namedParameters().map(([k]) => k);
    for (const k of ['mask_token', 'decoder_pos_embed', 'decoder_embed.weight', 'decoder_blocks.0.attn.qkv.weight', 'decoder_norm.weight', 'decoder_pred.bias']) {
      assert.ok(keys.includes(k), k);
    }
    const x = randn([2, 3, 16, 16]);
    const keep = tensor([[3, 0, 9, 12], [1, 2, 3, 4]], { dtype: 'int64' });
    const rest = (k: number[]) => [...Array(16).keys()].filter((i) => !k.includes(i));
    // ids_shuffle = keep ++ rest; ids_restore = argsort(ids_shuffle)
    const shuffle = tensor([[3, 0, 9, 12, ...rest([3, 0, 9, 12])], [1, 2, 3, 4, ...rest([1, 2, 3, 4])]], { dtype: 'int64' });
    const restore = shuffle.argsort(1);
    const pred = decoder.forward(vit.forwardVisible(x, keep), restore);
    assert.deepEqual(pred.shape, [2, 16, 48]);
    // With every patch visible and the identity order, the decoder sees the full sequence.
    const all = arange(0, 16).unsqueeze(0).expand(2, 16);
    assert.deepEqual(decoder.forward(vit.forwardTokens(x), all).shape, [2, 16, 48]);
  });
  test('BEiT head scores only the masked patches', () => {
    const head = new BEiTHead(8, 20, new Generator(3));
    const tokens = randn([2, 5, 8]);
    const mask = tensor([[1, 0, 0, 1], [0, 1, 0, 0]], { dtype: 'bool' });
    const logits = head.forward(tokens, mask);
    assert.deepEqual(logits.shape, [3, 20]);
    const second = head.head.forward(tokens.select(0, 0).select(0, 4)); // sample 0, patch 3 (token 4)
    assertClose(logits.select(0, 1).toArray(), second.toArray(), 1e-6);
    assert.deepEqual(head.forward(tokens, zeros([2, 4], { dtype: 'bool' })).shape, [0, 20]);
  });
});
