/**
 * Weight initialisation, as torch.nn.init (in place, under no-grad; each returns its tensor).
 * Fans follow PyTorch: fan_in = in_channels * kh * kw, fan_out = out_channels * kh * kw.
 *
 * ```ts
 * kaimingNormal_(conv.weight, { mode: 'fanOut' });   // torchvision ResNet convs
 * truncNormal_(linear.weight, 0.02);                 // timm ViT linears
 * ```
 */
import { type Generator, type Tensor, noGrad } from '../tensor/index.js';

export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`fans: need a tensor with at least 2 dimensions, got [${t.shape.join(', ')}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Gain of a nonlinearity, as torch.nn.init.calculate_gain. */
export function gain(nonlinearity: 'relu' | 'linear' | 'tanh' | 'leakyRelu', slope = 0.01): number {
  switch (nonlinearity) {
    case 'relu': return Math.SQRT2;
    case 'tanh': return 5 / 3;
    case 'leakyRelu': return Math.sqrt(2 / (1 + slope * slope));
    default: return 1;
  }
}

export interface KaimingOptions { mode?: 'fanIn' | 'fanOut'; nonlinearity?: 'relu' | 'linear' | 'leakyRelu'; a?: number; generator?: Generator }

/** He et al. (2015): normal with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const f = fans(t);
  const std = gain(o.nonlinearity ?? 'relu', o.a ?? 0) / Math.sqrt(o.mode === 'fanOut' ? f.fanOut : f.fanIn);
  return noGrad(() => t.normal_(0, std, o.generator));
}

/** He et al. (2015): uniform in ±gain * sqrt(3 / fan). With a = sqrt(5) this is PyTorch's Linear/Conv default. */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const f = fans(t);
  const bound = gain(o.nonlinearity ?? 'leakyRelu', o.a ?? 0) * Math.sqrt(3 / (o.mode === 'fanOut' ? f.fanOut : f.fanIn));
  return noGrad(() => t.uniform_(-bound, bound, o.generator));
}

/** Glorot & Bengio (2010): uniform in ±sqrt(6 / (fan_in + fan_out)); MAE initialises its patch projection so. */
export function xavierUniform_(t: Tensor, generator?: Generator): Tensor {
  const f = fans(t);
  const bound = Math.sqrt(6 / (f.fanIn + f.fanOut));
  return noGrad(() => t.uniform_(-bound, bound, generator));
}

/** Normal(0, std) truncated to ±2 (absolute, as timm's trunc_normal_(std=.02)). */
export function truncNormal_(t: Tensor, std = 0.02, generator?: Generator): Tensor {
  return noGrad(() => t.truncNormal_(0, std, -2, 2, generator));
}

export function uniform_(t: Tensor, low: number, high: number, generator?: Generator): Tensor {
  return noGrad(() => t.uniform_(low, high, generator));
}
export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}
