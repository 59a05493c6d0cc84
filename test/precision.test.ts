// Speed settings that must not change results: channels_last (NHWC) weights and activations give the
// same outputs, gradients and checkpoints as NCHW; the precision policy picks bfloat16 only where the
// CPU has it; under bfloat16 autocast the losses, MoCo's queue and the VQ-VAE's codebook stay float32.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../src/io/index.js';
import { byolLoss, dinoLoss, mocoV3Loss, ntXentLoss, vicregLoss } from '../src/losses/index.js';
import { MoCoV2 } from '../src/methods/index.js';
import { resnet18 } from '../src/models/index.js';
import { Linear } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import {
  Generator, autocast, autocastDtype, crossEntropy, defaultDevice, describePrecision, engineInfo, fullPrecision, nativeBf16, randint, randn, resolvePrecision, tidy,
} from '../src/tensor/index.js';
import { VQTokenizer } from '../src/tokenizers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-precision-'));

describe('channels_last', () => {
  test('a tensor laid out NHWC keeps its shape and values; contiguous() brings it back', () => {
    tidy(() => {
      const x = randn([2, 3, 4, 5], { generator: new Generator(0) });
      const nhwc = x.contiguous('channels_last');
      assert.deepEqual(nhwc.shape, [2, 3, 4, 5]);
      assert.deepEqual(nhwc.strides, [60, 1, 15, 3]);
      assert.ok(nhwc.isContiguous('channels_last') && !nhwc.isContiguous());
      assert.ok(nhwc.equal(x));
      assert.deepEqual(nhwc.contiguous().strides, [60, 20, 5, 1]);
      assert.throws(() => x.contiguous('sideways' as 'contiguous'), /unknown memory format 'sideways'/);
    });
  });

  test('a ResNet in NHWC gives NCHW\'s outputs and gradients, trains the same, and writes the same checkpoint bytes', () => {
    const nhwc = resnet18({ stem: 'cifar', width: 0.25, numClasses: 10, generator: new Generator(1) });
    const nchw = resnet18({ stem: 'cifar', width: 0.25, numClasses: 10, generator: new Generator(1), memoryFormat: 'contiguous' });
    assert.ok(nhwc.conv1.weight.isContiguous('channels_last') && nchw.conv1.weight.isContiguous());
    const x = randn([8, 3, 32, 32], { generator: new Generator(2) });
    const y = randint(0, 10, [8], { generator: new Generator(3) });
    // batch statistics of 8 images at 4x4 make this random net ill-conditioned (1e-5 of input noise moves its
    // gradients by 30%), so outputs are compared in training mode and gradients with the running statistics
    // on CUDA, cuDNN picks other algorithms for each layout and runs convolutions in TF32 (libtorch's default,
    // 10-bit mantissa): the two agree to 1e-3 there, to float32 rounding on the CPU
    const tolerance = defaultDevice().startsWith('cuda') ? 1e-3 : 1e-5;
    const trainLosses = [nhwc, nchw].map((net) => tidy(() => crossEntropy(net.forward(x), y).item()));
    assert.ok(Math.abs(trainLosses[0] - trainLosses[1]) < tolerance, `training-mode losses ${trainLosses}`);
    for (const net of [nhwc, nchw]) net.eval();
    const optimizers = [nhwc, nchw].map((net) => new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 }));
    const losses = [nhwc, nchw].map((net, i) => tidy(() => {
      const loss = crossEntropy(net.forward(x), y);
      loss.backward();
      optimizers[i].step();
      return loss.item();
    }));
    assert.ok(Math.abs(losses[0] - losses[1]) < tolerance, `losses ${losses}`);
    assert.ok(nhwc.conv1.weight.isContiguous('channels_last'), 'the optimizer updated the NHWC weight in place');
    const difference = Math.max(...nhwc.parameters().map((p, i) => tidy(() => p.sub(nchw.parameters()[i]).abs().max().item())));
    assert.ok(difference < tolerance, `weights after a step differ by ${difference}`);
    // checkpoints are row-major whatever the layout: NCHW readers (torchvision) load them
    writeSafetensors(join(dir, 'nhwc.safetensors'), nhwc.stateDict());
    const { tensors } = readSafetensors(join(dir, 'nhwc.safetensors'));
    const saved = tensors.get('conv1.weight')!;
    assert.ok(saved.isContiguous() && saved.equal(tidy(() => nhwc.conv1.weight.contiguous())));
    for (const t of tensors.values()) t.dispose();
    for (const o of optimizers) o.dispose();
    nhwc.dispose();
    nchw.dispose();
    x.dispose();
    y.dispose();
  });
});

describe('precision policy', () => {
  test('auto is bfloat16 on CUDA and on CPUs with AMX-BF16 or AVX512-BF16, float32 elsewhere; explicit choices stand', () => {
    // the CPU's flags read here, independently of nativeBf16's parsing
    const flags = existsSync('/proc/cpuinfo') ? (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:.*$/m)?.[0] ?? '') : '';
    const expected = /\bamx_bf16\b/.test(flags) ? 'amx_bf16' : /\bavx512_bf16\b/.test(flags) ? 'avx512_bf16' : null;
    assert.equal(nativeBf16(), expected);
    assert.equal(resolvePrecision('auto', 'cpu'), expected === null ? 'fp32' : 'bf16');
    assert.equal(resolvePrecision('auto', 'cuda:1'), 'bf16');
    assert.equal(resolvePrecision('fp32', 'cuda'), 'fp32');
    assert.equal(resolvePrecision('bf16', 'cpu'), 'bf16');
    assert.match(describePrecision('auto', 'cpu'), nativeBf16() ? new RegExp(`bfloat16 autocast \\(auto: this CPU has ${nativeBf16()}`) : /float32 \(auto: this CPU has neither/);
  });

  // float16 autocast exists on CUDA and, from libtorch 2, on the CPU (1.13's CPU autocast is bfloat16 only)
  const float16Autocast = defaultDevice().startsWith('cuda') || Number(engineInfo().torchVersion.split('.')[0]) >= 2;
  test('an outer region gets its own dtype back after inner fullPrecision and bfloat16 regions', { skip: !float16Autocast && 'no float16 autocast on this device with this libtorch (runs on a GPU: bench/gpu-check.sh)' }, () => {
    const before = autocastDtype();   // bfloat16 on the CPU, float16 on CUDA (torch.autocast's defaults)
    autocast(() => {
      assert.equal(autocastDtype(), 'float16');
      fullPrecision(() => undefined);
      assert.equal(autocastDtype(), 'float16', 'after fullPrecision');
      autocast(() => assert.equal(autocastDtype(), 'bfloat16'));
      assert.equal(autocastDtype(), 'float16', 'after a bfloat16 region');
    }, 'float16');
    assert.equal(autocastDtype(), before, 'leaving the region restores the dtype before it, as torch.autocast');
  });

  test('fullPrecision turns autocast off inside it', () => {
    tidy(() => {
      const [a, b] = [randn([4, 8]), randn([8, 4])];
      autocast(() => {
        assert.equal(a.matmul(b).dtype, 'bfloat16');
        assert.equal(fullPrecision(() => a.matmul(b)).dtype, 'float32');
        assert.equal(a.matmul(b).dtype, 'bfloat16', 'and back on after it');
      });
    });
  });

  test('under bfloat16 autocast the SSL losses are computed in float32 from bfloat16 embeddings', () => {
    tidy(() => {
      const g = new Generator(5);
      const head = new Linear(32, 16, { generator: g });
      const [x1, x2] = [randn([8, 32], { generator: g }), randn([8, 32], { generator: g })];
      const reference = [ntXentLoss(head.forward(x1), head.forward(x2)).item(), byolLoss(head.forward(x1), head.forward(x2)).item()];
      autocast(() => {
        const [z1, z2] = [head.forward(x1), head.forward(x2)];
        assert.equal(z1.dtype, 'bfloat16');
        const losses = [ntXentLoss(z1, z2), byolLoss(z1, z2), mocoV3Loss(z1, z2), vicregLoss(z1, z2).loss, dinoLoss([z1, z2], [z2, z1], randn([1, 16]).mul(0), { studentTemperature: 0.1, teacherTemperature: 0.04 })];
        assert.deepEqual(losses.map((l) => l.dtype), Array(5).fill('float32'));
        // from the same bfloat16 embeddings a float32 loss differs from the float32 model's only by their rounding
        assert.ok(Math.abs(losses[0].item() - reference[0]) < 0.02 && Math.abs(losses[1].item() - reference[1]) < 0.02, `${losses[0].item()} vs ${reference[0]}`);
      });
      head.dispose();
    });
  });

  test('MoCo v2 enqueues bfloat16 keys into its float32 queue; a VQ-VAE moves its float32 codebook under autocast', () => {
    const moco = new MoCoV2(resnet18({ stem: 'cifar', width: 0.125, generator: new Generator(6) }), { featureDim: 64, hiddenDim: 32, projectionDim: 16, queueSize: 32, generator: new Generator(6) });
    const views = [randn([8, 3, 16, 16], { generator: new Generator(7) }), randn([8, 3, 16, 16], { generator: new Generator(8) })];
    tidy(() => { autocast(() => moco.step(views)).loss.backward(); });
    assert.equal(moco.queue.dtype, 'float32');
    assert.equal(moco.pointer.item(), 16);
    moco.dispose();
    const vq = new VQTokenizer({ patchSize: 4, vocabulary: 16, normalize: { mean: [0, 0, 0], std: [1, 1, 1] }, generator: new Generator(9) });
    const images = randn([4, 3, 16, 16], { generator: new Generator(10) });
    tidy(() => { autocast(() => vq.trainingLoss(images)).loss.backward(); });
    tidy(() => { autocast(() => vq.trainingLoss(images)); });
    assert.equal(vq.codebook.dtype, 'float32');
    assert.ok(tidy(() => vq.codebook.isfinite().all().item() === 1));
    vq.dispose();
    for (const v of [...views, images]) v.dispose();
  });
});
