// ResNets: torchvision's parameter counts, shapes of both stems, and a training step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resnet18, resnet34, resnet50 } from '../src/models/index.js';
import { Generator, crossEntropy, liveTensors, noGrad, randint, randn, tidy } from '../src/tensor/index.js';

describe('ResNet', () => {
  test('parameter counts equal torchvision (ImageNet stem, 1000 classes)', () => {
    for (const [make, expected] of [[resnet18, 11_689_512], [resnet34, 21_797_672], [resnet50, 25_557_032]] as const) {
      const net = make({ numClasses: 1000 });
      assert.equal(net.parameterCount(), expected);
      net.dispose();
    }
  });
  test('state dict names follow torchvision', () => {
    const net = resnet18({ numClasses: 10 });
    const keys = net.namedParameters().map(([k]) => k).concat(net.namedBuffers().map(([k]) => k));
    for (const k of ['conv1.weight', 'bn1.running_var', 'layer1.0.conv1.weight', 'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.num_batches_tracked', 'layer4.1.bn2.bias', 'fc.weight', 'fc.bias']) {
      assert.ok(keys.includes(k), k);
    }
    assert.equal(net.namedBuffers().length, 20 * 3);
    net.dispose();
  });
  test('stems: CIFAR keeps 32x32 to a 4x4 map, ImageNet divides by 32; width multiplies channels', () => {
    const cifar = resnet18({ stem: 'cifar', generator: new Generator(0) }).eval();
    const x = randn([2, 3, 32, 32]);
    assert.deepEqual(cifar.forwardMap(x).shape, [2, 512, 4, 4]);
    assert.deepEqual(cifar.forward(x).shape, [2, 512]);
    const imagenet = resnet50({ width: 0.5 }).eval();
    assert.equal(imagenet.featureDim, 1024);
    assert.deepEqual(imagenet.forwardMap(randn([1, 3, 64, 64])).shape, [1, 1024, 2, 2]);
    const zero = resnet18({ zeroInitResidual: true });
    assert.equal((zero.layers[0].layers[0] as unknown as { bn2: { weight: { sum(): { item(): number } } } }).bn2.weight.sum().item(), 0);
    for (const n of [cifar, imagenet, zero]) n.dispose();
  });
  test('a few SGD steps on a fixed batch lower the loss and leak no tensors', () => {
    const net = resnet18({ stem: 'cifar', numClasses: 4, width: 0.25, generator: new Generator(1) });
    const x = randn([16, 3, 16, 16], { generator: new Generator(2) });
    const y = randint(0, 4, [16], { generator: new Generator(3) });
    const before = liveTensors();
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      losses.push(tidy(() => {
        const loss = crossEntropy(net.forward(x), y);
        loss.backward();
        noGrad(() => net.parameters().forEach((p) => { p.sub_(p.grad!, 0.05); p.zeroGrad(); }));
        return loss.item();
      }));
    }
    assert.equal(liveTensors(), before, 'every step frees what it made');
    assert.ok(losses[7] < losses[0] * 0.8, `loss ${losses[0].toFixed(3)} -> ${losses[7].toFixed(3)}`);
    net.dispose();
  });
});
