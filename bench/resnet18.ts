/**
 * ResNet-18 (He et al., 2016) with the CIFAR stem (3x3 stride-1 conv, no max-pool),
 * written directly against the Tensor API for the engine benchmark: the same network,
 * initialisation and in-place ReLUs as torchvision's resnet18 with that stem
 * (bench/peers/engine_resnet18.py).
 */
import {
  Tensor, adaptiveAvgPool2d, batchNorm, conv2d, crossEntropy, empty, linear, noGrad, ones, zeros, zerosLike, tidy, keep, Generator, pipe,
} from '../src/tensor/index.js';

interface BN { weight: Tensor; bias: Tensor; mean: Tensor; var: Tensor }
interface Block { conv1: Tensor; bn1: BN; conv2: Tensor; bn2: BN; down?: { conv: Tensor; bn: BN }; stride: number }

export class ResNet18 {
  readonly params: Tensor[] = [];
  private readonly buffers: Tensor[] = [];
  private readonly stem: Tensor;
  private readonly stemBn: BN;
  private readonly blocks: Block[] = [];
  private readonly fcW: Tensor;
  private readonly fcB: Tensor;
  private readonly momentum: Tensor[];

  constructor(numClasses = 10, seed = 0) {
    const gen = new Generator(seed);
    // kaiming_normal_(mode='fan_out', nonlinearity='relu') as torchvision
    const conv = (o: number, i: number, k: number) => this.param(empty([o, i, k, k]).normal_(0, Math.sqrt(2 / (o * k * k)), gen));
    const bn = (c: number): BN => ({
      weight: this.param(ones([c])), bias: this.param(zeros([c])),
      mean: this.buffer(zeros([c])), var: this.buffer(ones([c])),
    });
    this.stem = conv(64, 3, 3);
    this.stemBn = bn(64);
    let inC = 64;
    for (const [c, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]]) {
      for (let b = 0; b < 2; b++) {
        const s = b === 0 ? stride : 1;
        const block: Block = { conv1: conv(c, inC, 3), bn1: bn(c), conv2: conv(c, c, 3), bn2: bn(c), stride: s };
        if (s !== 1 || inC !== c) block.down = { conv: conv(c, inC, 1), bn: bn(c) };
        this.blocks.push(block);
        inC = c;
      }
    }
    const bound = 1 / Math.sqrt(512);
    this.fcW = this.param(empty([numClasses, 512]).uniform_(-bound, bound, gen));
    this.fcB = this.param(empty([numClasses]).uniform_(-bound, bound, gen));
    this.momentum = this.params.map((p) => keep(zerosLike(p)));
  }

  private param(t: Tensor): Tensor {
    keep(t).requiresGrad_();
    this.params.push(t);
    return t;
  }
  private buffer(t: Tensor): Tensor {
    this.buffers.push(keep(t));
    return t;
  }

  private norm(x: Tensor, bn: BN): Tensor {
    return batchNorm(x, { weight: bn.weight, bias: bn.bias, runningMean: bn.mean, runningVar: bn.var, training: true });
  }

  /** x[N, 3, 32, 32] -> logits[N, classes] */
  forward(x: Tensor): Tensor {
    // Intermediates are disposed as soon as they are used (pipe), as Python frees temporaries.
    let h = pipe(x, (t) => conv2d(t, this.stem, null, { padding: 1 }), (t) => this.norm(t, this.stemBn), (t) => t.relu_()); // [N, 64, 32, 32]
    for (const b of this.blocks) {
      const res = pipe(
        h,
        (t) => conv2d(t, b.conv1, null, { stride: b.stride, padding: 1 }), (t) => this.norm(t, b.bn1), (t) => t.relu_(),
        (t) => conv2d(t, b.conv2, null, { padding: 1 }), (t) => this.norm(t, b.bn2),
      );
      const down = b.down;
      const skip = down ? pipe(h, (t) => conv2d(t, down.conv, null, { stride: b.stride }), (t) => this.norm(t, down.bn)) : h;
      const next = pipe(res, (t) => t.add_(skip), (t) => t.relu_()); // out += identity; relu(out), in place as torchvision
      for (const t of new Set([skip, h])) if (t !== x) t.dispose();
      h = next;
    } // [N, 512, 4, 4]
    const pooled = pipe(h, (t) => adaptiveAvgPool2d(t, 1), (t) => t.flatten(1)); // [N, 512]
    h.dispose();
    const logits = linear(pooled, this.fcW, this.fcB);
    pooled.dispose();
    return logits;
  }

  /** One SGD step (lr 0.1, momentum 0.9, weight decay 5e-4, as torch.optim.SGD); returns the loss. */
  step(x: Tensor, y: Tensor, lr = 0.1): number {
    const loss = tidy(() => {
      const l = crossEntropy(this.forward(x), y);
      l.backward();
      return l.item();
    });
    noGrad(() => tidy(() => {
      this.params.forEach((p, i) => {
        const g = p.grad!;
        this.momentum[i].mul_(0.9).add_(g).add_(p, 5e-4);
        p.add_(this.momentum[i], -lr);
        p.zeroGrad();
      });
    }));
    return loss;
  }

  dispose(): void {
    for (const t of [...this.params, ...this.buffers, ...this.momentum]) t.dispose();
  }
}
