/**
 * What a run will cost, printed before it starts: the FLOPs of one forward pass per image,
 * counted by running the model once on zeros with its convolutions and linear layers instrumented
 * (the matrix products inside attention are not counted; training is about 3x the forward: the
 * backward pass costs two forwards); parameters; and, after a few real steps, the measured images/s, the peak memory of
 * the engine and the ETA.
 *
 * ```ts
 * const flops = forwardFlops(backbone, [1, 3, 32, 32]);   // ResNet-18, CIFAR stem: 1.11e9 (0.56 G multiply-adds)
 * ```
 */
import { Conv2d, type Layer, Linear, type Module } from '../nn/index.js';
import { type Tensor, noGrad, tidy, zeros } from '../tensor/index.js';
import { formatDuration } from './progress.js';

/** FLOPs (2 x multiply-accumulates) of one forward pass of `model` on an input of `shape`. */
export function forwardFlops(model: Layer, shape: number[]): number {
  let flops = 0;
  const patched: [Module, (x: Tensor) => Tensor][] = [];
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Conv2d) && !(m instanceof Linear)) continue;
    const layer: Conv2d | Linear = m;
    const original = layer.forward.bind(layer);
    patched.push([layer, layer.forward]);
    // Each output of a convolution costs C_in/groups * kh * kw MACs; each row of a linear layer in * out.
    const macs = (y: Tensor): number => layer instanceof Conv2d
      ? y.numel * layer.weight.size(1) * layer.weight.size(2) * layer.weight.size(3)
      : (y.numel / y.size(-1)) * layer.inFeatures * layer.outFeatures;
    layer.forward = (x: Tensor): Tensor => {
      const y = original(x);
      flops += 2 * macs(y);
      return y;
    };
  }
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => tidy(() => { model.forward(zeros(shape)); }));
  } finally {
    for (const [m, forward] of patched) (m as Layer).forward = forward;
    model.train(wasTraining);
  }
  return flops / shape[0];
}

/**
 * Training FLOPs of one image of a step: forward and backward (about 3 forwards) of the backbone on
 * each view at its own size (DINO's local crops are smaller than its global ones), on the visible
 * share of the patches where the method drops the rest (MAE). Heads are not counted.
 */
export function trainFlopsPerImage(backbone: Layer, viewSizes: number[], visibleFraction = 1): number {
  const bySize = new Map<number, number>();
  let total = 0;
  for (const size of viewSizes) {
    if (!bySize.has(size)) bySize.set(size, forwardFlops(backbone, [1, 3, size, size]));
    total += bySize.get(size)!;
  }
  return 3 * total * visibleFraction;
}

export interface CostEstimate {
  parameters: number;
  forwardGflopsPerImage: number;
  trainGflopsPerStep: number;
  imagesPerSecond: number;
  peakEngineMB: number;
  etaSeconds: number;
}

export function formatCost(c: CostEstimate): string {
  return [
    `parameters ${(c.parameters / 1e6).toFixed(2)} M`,
    `forward ${c.forwardGflopsPerImage.toFixed(3)} GFLOPs/image`,
    `training ~${c.trainGflopsPerStep.toFixed(1)} GFLOPs/step`,
    `measured ${c.imagesPerSecond.toFixed(1)} img/s`,
    `engine memory peak ${c.peakEngineMB.toFixed(0)} MB`,
    `ETA ${formatDuration(c.etaSeconds)}`,
  ].join(', ');
}
