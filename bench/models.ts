/**
 * `npm run bench -- models [--json] [--steps N] [--rounds R] [--no-peer] [--device cuda] [--bf16]`
 *
 * Train-step images/s of the model zoo, batch 128 at 32x32 on 2 threads, side by side with
 * the same modules in PyTorch (bench/peers/models.py, tcmalloc preloaded):
 *   resnet18         ResNet-18, CIFAR stem, SGD momentum 0.9, weight decay 5e-4
 *   vit_tiny         ViT-Tiny/4 on all 64 tokens, AdamW
 *   vit_tiny_mask75  ViT-Tiny/4 on 16 visible tokens (MAE's encoder at mask ratio 0.75), AdamW
 */
import { resnet18, vitTiny, type ResNet, type VisionTransformer } from '../src/models/index.js';
import { AdamW, SGD, type Optimizer } from '../src/optim/index.js';
import { type Device, Generator, autocast, crossEntropy, rand, randint, randn, setDefaultDevice, setNumThreads, tidy, type Tensor } from '../src/tensor/index.js';
import { runPeer, TCMALLOC } from './peer.js';
import { round, sideBySide } from './sideBySide.js';

export interface ModelsOptions {
  steps: number; warmup: number; rounds: number; threads: number; batch: number; peer: boolean;
  /** cpu (default) or cuda: model, data and the peer on that device */
  device?: Device;
  /** bfloat16 autocast on the device, in both */
  bf16?: boolean;
}

type Setup = { forward: (x: Tensor) => Tensor; optimizer: Optimizer<{ lr: number; weightDecay: number }>; dispose: () => void };

function setup(name: string, batch: number): Setup {
  if (name === 'resnet18') {
    const net: ResNet = resnet18({ stem: 'cifar', numClasses: 10, generator: new Generator(0) });
    const optimizer = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    return { forward: (x) => net.forward(x), optimizer, dispose: () => { optimizer.dispose(); net.dispose(); } };
  }
  const vit: VisionTransformer = vitTiny({ imageSize: 32, patchSize: 4, numClasses: 10, generator: new Generator(0) });
  const optimizer = new AdamW(vit.parameters().filter((p) => p.requiresGrad), { lr: 1e-3, weightDecay: 0.05 });
  const keepIds = name === 'vit_tiny_mask75' ? tidy(() => rand([batch, 64], { generator: new Generator(1) }).argsort(1).slice(1, 0, 16)) : null;
  const forward = keepIds
    ? (x: Tensor) => tidy(() => vit.head!.forward(vit.forwardVisible(x, keepIds).select(1, 0)))
    : (x: Tensor) => vit.forward(x);
  return { forward, optimizer, dispose: () => { optimizer.dispose(); vit.dispose(); keepIds?.dispose(); } };
}

export function modelsBench(o: ModelsOptions): Record<string, unknown> {
  setNumThreads(o.threads);
  const device = o.device ?? 'cpu';
  setDefaultDevice(device);
  const result: Record<string, unknown> = { bench: 'models', batch: o.batch, resolution: 32, threads: o.threads, steps: o.steps, rounds: o.rounds, device, bf16: Boolean(o.bf16) };
  for (const name of ['resnet18', 'vit_tiny', 'vit_tiny_mask75']) {
    const s = setup(name, o.batch);
    const x = randn([o.batch, 3, 32, 32], { generator: new Generator(2) });
    const y = randint(0, 10, [o.batch], { generator: new Generator(3) });
    const args = ['--model', name, '--threads', String(o.threads), '--batch', String(o.batch), '--steps', String(o.steps), '--warmup', String(o.warmup),
      '--device', device, ...(o.bf16 ? ['--bf16'] : [])];
    const lossOf = () => crossEntropy(s.forward(x), y);
    const timing = sideBySide({
      rounds: o.rounds, steps: o.steps, warmup: o.warmup, batch: o.batch,
      step: () => {
        const loss = tidy(() => {
          const l = o.bf16 ? autocast(lossOf) : lossOf();
          l.backward();
          return l.detach();
        });
        s.optimizer.step();
        s.optimizer.zeroGrad();
        if (device !== 'cpu') loss.item();   // wait for the GPU, as the peer does
        loss.dispose();
      },
      peer: o.peer ? () => runPeer('models.py', args, device === 'cpu' ? { LD_PRELOAD: TCMALLOC } : {}) : undefined,
    });
    const entry: Record<string, unknown> = { img_per_s: round(timing.imgPerS, 2), img_per_s_rounds: timing.rounds.map((v) => round(v, 1)) };
    if (timing.peer) {
      entry.peer_img_per_s = round(timing.peer.imgPerS, 2);
      entry.peer_img_per_s_rounds = timing.peer.rounds.map((v) => round(v, 1));
      entry.ratio_vs_pytorch = round(timing.imgPerS / timing.peer.imgPerS, 3);
    }
    result[name] = entry;
    s.dispose();
    x.dispose();
    y.dispose();
  }
  return result;
}
