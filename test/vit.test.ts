// ViT: timm's parameter counts and names, sin-cos embeddings, and the masked forwards.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildBackbone, sincosPositionEmbedding, VisionTransformer, vitBase, vitSmall, vitTiny } from '../src/models/index.js';
import { Generator, arange, crossEntropy, liveTensors, noGrad, ones, randint, randn, tidy, zeros, tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/gradcheck.js';

describe('VisionTransformer', () => {
  test('parameter counts equal timm at 224 with a 1000-class head', () => {
    for (const [make, expected] of [[vitTiny, 5_717_416], [vitSmall, 22_050_664], [vitBase, 86_567_656]] as const) {
      const net = make({ numClasses: 1000 });
      assert.equal(net.parameterCount(), expected);
      net.dispose();
    }
  });
  test('state dict names follow timm', () => {
    const net = vitTiny({ imageSize: 32, patchSize: 4, depth: 2, numClasses: 10 });
    const keys = net.namedParameters().map(([k]) => k);
    for (const k of ['patch_embed.proj.weight', 'cls_token', 'pos_embed', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight',
      'blocks.1.attn.proj.bias', 'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc2.bias', 'norm.weight', 'head.weight']) {
      assert.ok(keys.includes(k), k);
    }
    net.dispose();
  });
  test('2-D sin-cos embeddings: column half then row half, [sin, cos] per half', () => {
    const table = sincosPositionEmbedding(2, 4); // omega = [1]: entries sin(p), cos(p)
    const s1 = Math.sin(1);
    const c1 = Math.cos(1);
    assertClose(table.toArray(), [[0, 1, 0, 1], [s1, c1, 0, 1], [0, 1, s1, c1], [s1, c1, s1, c1]]);
    const vit = vitTiny({ imageSize: 16, patchSize: 4, depth: 1, posEmbed: 'sincos' });
    assert.equal(vit.posEmbed.requiresGrad, false, 'fixed, as MAE');
    assert.equal(vit.parameterCount(false), vit.parameterCount() - 17 * 192);
    vit.dispose();
  });
  test('shapes; visible-patch and masked forwards agree with the plain forward where they should', () => {
    const vit = vitTiny({ imageSize: 32, patchSize: 4, depth: 2, generator: new Generator(0) }).eval();
    const x = randn([2, 3, 32, 32], { generator: new Generator(1) });
    tidy(() => {
      const all = vit.forwardTokens(x);
      assert.deepEqual(all.shape, [2, 65, 192]);
      assert.deepEqual(vit.forward(x).shape, [2, 192]);
      const everyId = arange(0, 64).unsqueeze(0).expand(2, 64);
      assert.ok(vit.forwardVisible(x, everyId).allclose(all, 1e-5, 1e-5), 'keeping every patch = the plain forward');
      const keepIds = randint(0, 64, [2, 16], { generator: new Generator(2) });
      assert.deepEqual(vit.forwardVisible(x, keepIds).shape, [2, 17, 192]);
      const none = zeros([2, 64], { dtype: 'bool' });
      assert.ok(vit.forwardMasked(x, none, zeros([1, 1, 192])).allclose(all, 1e-5, 1e-5), 'an empty mask changes nothing');
      const some = tensor([[1, ...Array(63).fill(0)], Array(64).fill(0)], { dtype: 'bool' });
      const masked = vit.forwardMasked(x, some, zeros([1, 1, 192]));
      assert.ok(!masked.select(0, 0).allclose(all.select(0, 0), 1e-4, 1e-4));
      assert.ok(masked.select(0, 1).allclose(all.select(0, 1), 1e-5, 1e-5), 'samples are masked independently');
      const attn = vit.lastAttention(x);
      assert.deepEqual(attn.shape, [2, 3, 65, 65]);
      assertClose(attn.sum(-1).toArray(), ones([2, 3, 65]).toArray(), 1e-5);
    });
    vit.dispose();
  });
  test('buildBackbone: depth sets a ViT\'s blocks (12 by default); a ResNet\'s or a fractional one is refused', () => {
    const blocks = (depth?: number) => {
      const { backbone } = buildBackbone({ name: 'vit_tiny', imageSize: 32, patchSize: 8, depth });
      assert.ok(backbone instanceof VisionTransformer);
      const n = backbone.blocks.length;
      backbone.dispose();
      return n;
    };
    assert.equal(blocks(), 12);
    assert.equal(blocks(2), 2);
    assert.throws(() => buildBackbone({ name: 'vit_tiny', imageSize: 32, depth: 1.5 }), /depth 1\.5: expected a whole number of blocks, at least 1/);
    assert.throws(() => buildBackbone({ name: 'resnet18', imageSize: 32, depth: 2 }), /depth 2: a ResNet's depth is in its name/);
  });

  test('position embeddings interpolate to another resolution', () => {
    const vit = vitTiny({ imageSize: 32, patchSize: 4, depth: 1 }).eval();
    vit.interpolatePositionEmbedding(48);
    assert.deepEqual(vit.posEmbed.shape, [1, 145, 192]);
    assert.equal(vit.namedParameters().find(([k]) => k === 'pos_embed')![1], vit.posEmbed);
    assert.deepEqual(vit.forward(randn([1, 3, 48, 48])).shape, [1, 192]);
    // other sizes (DINO's local crops) get the table resized on the fly
    assert.deepEqual(vit.forward(randn([2, 3, 16, 16])).shape, [2, 192]);
    assert.throws(() => vit.forward(randn([1, 3, 30, 30])), /patch size 4 does not divide the image size 30x30/);
    vit.dispose();
  });
  test('a few SGD steps lower the loss and leak no tensors', () => {
    const vit = vitTiny({ imageSize: 16, patchSize: 4, depth: 2, dim: 32, heads: 2, numClasses: 3, generator: new Generator(5) });
    const y = randint(0, 3, [12], { generator: new Generator(7) });
    // Learnable: the class lights up its own colour channel under the noise.
    const x = tidy(() => randn([12, 3, 16, 16], { generator: new Generator(6) }).mul(0.5).add(y.oneHot(3).float().view(12, 3, 1, 1)));
    const before = liveTensors();
    const losses = Array.from({ length: 15 }, () => tidy(() => {
      const loss = crossEntropy(vit.forward(x), y);
      loss.backward();
      noGrad(() => vit.parameters().filter((p) => p.requiresGrad).forEach((p) => { p.sub_(p.grad!, 0.1); p.zeroGrad(); }));
      return loss.item();
    }));
    assert.equal(liveTensors(), before);
    assert.ok(losses[14] < losses[0] * 0.5, `loss ${losses[0].toFixed(3)} -> ${losses[14].toFixed(3)}`);
    vit.dispose();
  });
});
