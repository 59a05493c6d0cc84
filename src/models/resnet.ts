/**
 * ResNet-18/34/50 (He et al., 2016) with torchvision's structure, initialisation and
 * state-dict names (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc, ...), so that
 * parameter counts and weights line up with torchvision. Two stems: 'imagenet'
 * (7x7 stride-2 conv + max-pool) and 'cifar' (3x3 stride-1 conv, no max-pool, as in
 * SimCLR's CIFAR experiments). `width` multiplies every stage's channels. Weights and activations
 * are channels_last (NHWC) by default, the layout oneDNN's convolutions run fastest in (as
 * `model.to(memory_format=torch.channels_last)`); inputs are laid out so on the way in, and state
 * dicts are row-major as torchvision's.
 *
 * ```ts
 * const net = resnet18({ stem: 'cifar' });       // a backbone: no classifier
 * const h = net.forward(images);                 // [N, 3, 32, 32] -> [N, 512]
 * const map = net.forwardMap(images);            // [N, 512, 4, 4]
 * ```
 */
import { type Generator, type MemoryFormat, type Tensor, adaptiveAvgPool2d, maxPool2d, pipe, tidy, where } from '../tensor/index.js';
import { BatchNorm2d, Conv2d, Layer, Linear, Sequential, init } from '../nn/index.js';
import { spreadCells } from './patches.js';

export type Stem = 'imagenet' | 'cifar';

export interface ResNetOptions {
  stem?: Stem;
  /** classifier outputs; 0 (default) gives a backbone whose forward returns the pooled feature */
  numClasses?: number;
  /** channel multiplier of every stage (1 = torchvision) */
  width?: number;
  /** start each residual branch at zero (the last BN's gamma = 0; Goyal et al., 2017) */
  zeroInitResidual?: boolean;
  /** weights and activations in NHWC ('channels_last', default) or NCHW ('contiguous') */
  memoryFormat?: MemoryFormat;
  generator?: Generator;
}

const conv = (inC: number, outC: number, k: number, stride: number, generator?: Generator): Conv2d =>
  new Conv2d(inC, outC, k, { stride, padding: Math.floor(k / 2), bias: false, generator });

/** Two 3x3 convolutions with a residual connection (ResNet-18/34). */
export class BasicBlock extends Layer {
  static readonly expansion = 1;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, g?: Generator) {
    super();
    this.conv1 = this.registerModule('conv1', conv(inC, planes, 3, stride, g));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3, 1, g));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inC !== planes
      ? this.registerModule('downsample', new Sequential(conv(inC, planes, 1, stride, g), new BatchNorm2d(planes))) : null;
  }

  get lastNorm(): BatchNorm2d { return this.bn2; }

  forward(x: Tensor): Tensor {
    const out = pipe(x, (t) => this.conv1.forward(t), (t) => this.bn1.forward(t), (t) => t.relu_(),
      (t) => this.conv2.forward(t), (t) => this.bn2.forward(t));
    return residual(out, x, this.downsample);
  }
}

/** 1x1 reduce, 3x3, 1x1 expand (x4) with a residual connection (ResNet-50). */
export class Bottleneck extends Layer {
  static readonly expansion = 4;
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d; readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, g?: Generator) {
    super();
    const outC = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', conv(inC, planes, 1, 1, g));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3, stride, g));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', conv(planes, outC, 1, 1, g));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(outC));
    this.downsample = stride !== 1 || inC !== outC
      ? this.registerModule('downsample', new Sequential(conv(inC, outC, 1, stride, g), new BatchNorm2d(outC))) : null;
  }

  get lastNorm(): BatchNorm2d { return this.bn3; }

  forward(x: Tensor): Tensor {
    const out = pipe(x, (t) => this.conv1.forward(t), (t) => this.bn1.forward(t), (t) => t.relu_(),
      (t) => this.conv2.forward(t), (t) => this.bn2.forward(t), (t) => t.relu_(),
      (t) => this.conv3.forward(t), (t) => this.bn3.forward(t));
    return residual(out, x, this.downsample);
  }
}

/** relu(out + shortcut(x)), in place on `out` as torchvision. */
function residual(out: Tensor, x: Tensor, downsample: Sequential | null): Tensor {
  const identity = downsample ? downsample.forward(x) : x;
  out.add_(identity).relu_();
  if (identity !== x) identity.dispose();
  return out;
}

type Block = typeof BasicBlock | typeof Bottleneck;

export class ResNet extends Layer {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly fc: Linear | null;
  /** channels of the pooled feature */
  readonly featureDim: number;
  readonly stem: Stem;
  /** the layout of weights and activations (see toMemoryFormat) */
  memoryFormat: MemoryFormat = 'contiguous';

  constructor(block: Block, depths: [number, number, number, number], o: ResNetOptions = {}) {
    super();
    const g = o.generator;
    const width = o.width ?? 1;
    const base = Math.round(64 * width);
    this.stem = o.stem ?? 'imagenet';
    this.conv1 = this.registerModule('conv1', this.stem === 'imagenet'
      ? new Conv2d(3, base, 7, { stride: 2, padding: 3, bias: false, generator: g })
      : new Conv2d(3, base, 3, { stride: 1, padding: 1, bias: false, generator: g }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(base));
    let inC = base;
    this.layers = depths.map((depth, stage) => {
      const planes = Math.round(64 * width * 2 ** stage);
      const blocks: Layer[] = [];
      for (let i = 0; i < depth; i++) {
        blocks.push(new block(inC, planes, i === 0 && stage > 0 ? 2 : 1, g));
        inC = planes * block.expansion;
      }
      return this.registerModule(`layer${stage + 1}`, new Sequential(...blocks));
    });
    this.featureDim = inC;
    this.fc = o.numClasses ? this.registerModule('fc', new Linear(inC, o.numClasses, { generator: g })) : null;

    // torchvision: kaiming_normal_(fan_out, relu) for convs; BN gamma 1, beta 0 (the BN default).
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fanOut', nonlinearity: 'relu', generator: g });
      if (o.zeroInitResidual && (m instanceof BasicBlock || m instanceof Bottleneck)) init.constant_(m.lastNorm.weight!, 0);
    }
    this.toMemoryFormat(o.memoryFormat ?? 'channels_last');
  }

  override toMemoryFormat(memoryFormat: MemoryFormat): this {
    this.memoryFormat = memoryFormat;
    return super.toMemoryFormat(memoryFormat);
  }

  /** Pixels per position of the last feature map: 32 with the ImageNet stem, 8 with the CIFAR stem. */
  get outputStride(): number {
    return this.stem === 'imagenet' ? 32 : 8;
  }

  /** Channels of the stem's output (the first stage's input). */
  get stemChannels(): number {
    return this.conv1.weight.shape[0];
  }

  /** The stem's steps: [N, 3, H, W] -> [N, stemChannels, H/4, W/4] (H with the CIFAR stem). */
  private stemSteps(): ((t: Tensor) => Tensor)[] {
    const steps = [(t: Tensor) => t.contiguous(this.memoryFormat), (t: Tensor) => this.conv1.forward(t), (t: Tensor) => this.bn1.forward(t), (t: Tensor) => t.relu_()];
    if (this.stem === 'imagenet') steps.push((t) => maxPool2d(t, 3, { stride: 2, padding: 1 }));
    return steps;
  }

  /** The four stages' steps: the stem's output -> [N, featureDim, H/32, W/32]. */
  private stageSteps(): ((t: Tensor) => Tensor)[] {
    return this.layers.map((layer) => (t: Tensor) => layer.forward(t));
  }

  /** The last feature map: [N, 3, H, W] -> [N, featureDim, H/32, W/32] (H/8 with the CIFAR stem). */
  forwardMap(x: Tensor): Tensor {
    return pipe(x, ...this.stemSteps(), ...this.stageSteps());
  }

  /**
   * SimMIM on a ConvNet (Xie et al., 2022): after the stem, the positions under a masked cell of
   * `mask` (bool [N, g, g], a grid that divides the stem's output) take `maskToken` ([1, stemChannels, 1, 1]);
   * then the stages, as forwardMap: [N, featureDim, H/32, W/32].
   */
  forwardMaskedMap(x: Tensor, mask: Tensor, maskToken: Tensor): Tensor {
    const replaceMasked = (stem: Tensor) => tidy(() => {
      const [n, , h] = stem.shape;
      if (mask.ndim !== 3 || mask.shape[0] !== n || mask.shape[1] !== mask.shape[2] || h % mask.shape[1] !== 0) {
        throw new Error(`ResNet.forwardMaskedMap: expected a square mask [${n}, g, g] with g dividing the stem's output side ${h}, got [${mask.shape.join(', ')}]`);
      }
      const factor = h / mask.shape[1];
      const cells = spreadCells(mask, factor).unsqueeze(1); // [N, 1, h, w]
      return where(cells, maskToken, stem).contiguous(this.memoryFormat);
    });
    return pipe(x, ...this.stemSteps(), replaceMasked, ...this.stageSteps());
  }

  /** Pooled features [N, featureDim], or class logits when built with numClasses. */
  forward(x: Tensor): Tensor {
    const map = this.forwardMap(x);
    const pooled = pipe(map, (t) => adaptiveAvgPool2d(t, 1), (t) => t.flatten(1));
    map.dispose();
    if (this.fc === null) return pooled;
    const logits = this.fc.forward(pooled);
    pooled.dispose();
    return logits;
  }
}

export const resnet18 = (o: ResNetOptions = {}): ResNet => new ResNet(BasicBlock, [2, 2, 2, 2], o);
export const resnet34 = (o: ResNetOptions = {}): ResNet => new ResNet(BasicBlock, [3, 4, 6, 3], o);
export const resnet50 = (o: ResNetOptions = {}): ResNet => new ResNet(Bottleneck, [3, 4, 6, 3], o);
