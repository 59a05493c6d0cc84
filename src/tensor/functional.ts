/**
 * Functions of several tensors and the neural-network primitives, as
 * `torch` / `torch.nn.functional`: joins, convolutions, pooling, normalisation,
 * losses, attention and resampling. Each is one libtorch kernel with its backward.
 *
 * ```ts
 * const y = conv2d(x, w, b, { stride: 1, padding: 1 });  // [N,C,H,W] -> [N,O,H,W]
 * const loss = crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 * ```
 */
import { native, type NativeHandle } from './native.js';
import { Tensor, type Reduction, type Scalar, type TensorOrScalar } from './tensor.js';

type Pair = number | [number, number];
const hs = (ts: readonly Tensor[]): NativeHandle[] => ts.map((t) => t.handle);
const opt = (t: Tensor | null | undefined): NativeHandle | undefined => t?.handle;
const val = (x: TensorOrScalar): NativeHandle | Scalar => (x instanceof Tensor ? x.handle : x);
const wrap = (x: NativeHandle): Tensor => new Tensor(x);

// ------------------------------------------------------------------ joins and selection
export function cat(tensors: readonly Tensor[], dim = 0): Tensor { return wrap(native.cat(hs(tensors), dim)); }
export function stack(tensors: readonly Tensor[], dim = 0): Tensor { return wrap(native.stack(hs(tensors), dim)); }
/** cond ? a : b, elementwise with broadcasting. */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return wrap(native.where(cond.handle, val(a), val(b)));
}
/** Einstein summation, e.g. einsum('nc,mc->nm', a, b). */
export function einsum(equation: string, ...tensors: Tensor[]): Tensor { return wrap(native.einsum(equation, hs(tensors))); }
/** beta * input + alpha * (a @ b) */
export function addmm(input: Tensor, a: Tensor, b: Tensor, beta = 1, alpha = 1): Tensor {
  return wrap(native.addmm(input.handle, a.handle, b.handle, beta, alpha));
}
/** beta * input + alpha * (a @ b), batched. */
export function baddbmm(input: Tensor, a: Tensor, b: Tensor, beta = 1, alpha = 1): Tensor {
  return wrap(native.baddbmm(input.handle, a.handle, b.handle, beta, alpha));
}
/** Rows `indices` of `weight` (an embedding lookup). */
export function embedding(weight: Tensor, indices: Tensor): Tensor { return wrap(native.embedding(weight.handle, indices.handle)); }

// ------------------------------------------------------------------ layers
/** x[..., in] · weight[out, in]^T + bias[out] */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(native.linear(x.handle, weight.handle, opt(bias)));
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair | 'same' | 'valid'; dilation?: Pair; groups?: number }
/** x[N, C, H, W] * weight[O, C/groups, kh, kw] + bias[O] -> [N, O, H', W'] */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return wrap(native.conv2d(x.handle, weight.handle, opt(bias), o.stride, o.padding, o.dilation, o.groups));
}
export interface ConvTranspose2dOptions { stride?: Pair; padding?: Pair; outputPadding?: Pair; groups?: number; dilation?: Pair }
/** Transposed convolution: weight[C, O/groups, kh, kw]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: ConvTranspose2dOptions = {}): Tensor {
  return wrap(native.convTranspose2d(x.handle, weight.handle, opt(bias), o.stride, o.padding, o.outputPadding, o.groups, o.dilation));
}
export function maxPool2d(x: Tensor, kernel: Pair, o: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}): Tensor {
  return wrap(native.maxPool2d(x.handle, kernel, o.stride, o.padding, o.dilation, o.ceilMode));
}
export function avgPool2d(x: Tensor, kernel: Pair, o: { stride?: Pair; padding?: Pair; ceilMode?: boolean; countIncludePad?: boolean } = {}): Tensor {
  return wrap(native.avgPool2d(x.handle, kernel, o.stride, o.padding, o.ceilMode, o.countIncludePad));
}
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor { return wrap(native.adaptiveAvgPool2d(x.handle, size)); }
export function adaptiveMaxPool2d(x: Tensor, size: Pair): Tensor { return wrap(native.adaptiveMaxPool2d(x.handle, size)); }

export interface BatchNormOptions {
  weight?: Tensor | null; bias?: Tensor | null;
  runningMean?: Tensor | null; runningVar?: Tensor | null;
  training: boolean; momentum?: number; eps?: number;
}
/**
 * Batch normalisation (Ioffe & Szegedy, 2015) over dim 1 of [N, C, ...]. In training,
 * batch statistics normalise and the running ones are updated in place (momentum 0.1).
 */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  return wrap(native.batchNorm(x.handle, opt(o.weight), opt(o.bias), opt(o.runningMean), opt(o.runningVar), o.training, o.momentum, o.eps));
}
/** Layer normalisation (Ba et al., 2016) over the trailing `normalizedShape` dimensions. */
export function layerNorm(x: Tensor, normalizedShape: number | number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return wrap(native.layerNorm(x.handle, normalizedShape, opt(weight), opt(bias), eps));
}
/** Group normalisation (Wu & He, 2018) of [N, C, ...] in `groups` channel groups. */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return wrap(native.groupNorm(x.handle, groups, opt(weight), opt(bias), eps));
}
/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor { return wrap(native.dropout(x.handle, p, training)); }

// ------------------------------------------------------------------ similarity and attention
/** x / max(||x||_p, eps) along `dim`. */
export function normalize(x: Tensor, o: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  return wrap(native.normalize(x.handle, o.p ?? 2, o.dim ?? 1, o.eps ?? 1e-12));
}
export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor {
  return wrap(native.cosineSimilarity(a.handle, b.handle, dim, eps));
}
/** Pairwise p-norm distances [.., N, D] x [.., M, D] -> [.., N, M]. */
/** Singular values of [..., m, n] matrices, descending (torch.linalg.svdvals). */
export function svdvals(x: Tensor): Tensor { return wrap(native.svdvals(x.handle)); }
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor { return wrap(native.cdist(a.handle, b.handle, p)); }

export interface AttentionOptions {
  /** bool (true = attend) or additive float mask, broadcastable to [..., Lq, Lk] */
  mask?: Tensor | null;
  dropout?: number;
  causal?: boolean;
  /** defaults to 1/sqrt(E) */
  scale?: number;
}
/**
 * Scaled dot-product attention (Vaswani et al., 2017): softmax(q k^T * scale) v.
 * q[..., Lq, E], k[..., Lk, E], v[..., Lk, Ev] -> [..., Lq, Ev]. libtorch's fused kernel
 * where it has one (2.x); composed from matmul and softmax otherwise.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  const [out] = native.attention(q.handle, k.handle, v.handle, opt(o.mask), o.dropout ?? 0, o.causal ?? false, o.scale, false);
  return wrap(out);
}
/** As {@link attention}, also returning the attention weights [..., Lq, Lk] (for attention maps). */
export function attentionWithWeights(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): [Tensor, Tensor] {
  const [out, weights] = native.attention(q.handle, k.handle, v.handle, opt(o.mask), o.dropout ?? 0, o.causal ?? false, o.scale, true);
  return [wrap(out), wrap(weights)];
}

// ------------------------------------------------------------------ resampling and patches
/** Resize [N, C, H, W] to `size`. */
export function interpolate(x: Tensor, size: Pair, mode: 'bilinear' | 'bicubic' | 'nearest' = 'bilinear', alignCorners = false): Tensor {
  return wrap(native.interpolate(x.handle, size, mode, alignCorners));
}
/**
 * Crops each image of [B, C, H, W] (uint8 or float) to its own box (int [B, 4]: top, left, height,
 * width) and resizes it to `size`, as torchvision's F.resized_crop per image: float32 out, uint8
 * values kept on their 0..255 scale (unrounded); then mirrored left-right where `flips` (bool [B]) is
 * true. Samples run in parallel.
 */
export function resizedCrops(x: Tensor, boxes: Tensor, size: Pair, mode: 'bilinear' | 'bicubic' | 'nearest' = 'bilinear', antialias = true, flips?: Tensor): Tensor {
  return wrap(native.resizedCrops(x.handle, boxes.handle, size, mode, antialias, flips?.handle));
}
/**
 * Colour adjustments of float RGB images [B, 3, H, W] in [0, 1], per image: image b gets the
 * adjustments order[b][0..3] (0 brightness, 1 contrast, 2 saturation, 3 hue; -1 ends its list)
 * with factors[b][adjustment] ([B, 4]), by torchvision's formulas, then turns grey where `grey`
 * (bool [B]) is true; fused, one native pass per adjustment.
 */
export function colorAdjust(x: Tensor, factors: Tensor, order: Tensor, grey?: Tensor): Tensor {
  return wrap(native.colorJitter(x.handle, factors.handle, order.handle, grey?.handle));
}
/** Pads the last dimensions: [left, right, top, bottom, ...]. */
export function pad(x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  return wrap(native.pad(x.handle, pads, mode, value));
}
/** Sliding blocks (im2col): [N, C, H, W] -> [N, C*kh*kw, L]. With kernel = stride = patch, patchify. */
export function unfold(x: Tensor, kernel: Pair, o: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  return wrap(native.unfold(x.handle, kernel, o.dilation, o.padding, o.stride));
}
/** Inverse of unfold (col2im, summing overlaps): [N, C*kh*kw, L] -> [N, C, H, W]. */
export function fold(x: Tensor, outputSize: Pair, kernel: Pair, o: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  return wrap(native.fold(x.handle, outputSize, kernel, o.dilation, o.padding, o.stride));
}
export function pixelShuffle(x: Tensor, upscale: number): Tensor { return wrap(native.pixelShuffle(x.handle, upscale)); }

// ------------------------------------------------------------------ losses
export interface CrossEntropyOptions { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number }
/**
 * Cross-entropy of logits[N, C, ...] against class indices [N, ...] (int64) or class
 * probabilities [N, C, ...] (soft targets), with optional label smoothing (Szegedy et al., 2016).
 */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return wrap(native.crossEntropy(logits.handle, target.handle, opt(o.weight), o.reduction, o.ignoreIndex, o.labelSmoothing));
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: { weight?: Tensor | null; reduction?: Reduction; ignoreIndex?: number } = {}): Tensor {
  return wrap(native.nllLoss(logProbs.handle, target.handle, opt(o.weight), o.reduction, o.ignoreIndex));
}
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.mseLoss(input.handle, target.handle, reduction));
}
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.l1Loss(input.handle, target.handle, reduction));
}
/** Huber-style loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta. */
export function smoothL1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', beta = 1): Tensor {
  return wrap(native.smoothL1Loss(input.handle, target.handle, reduction, beta));
}
export function bceWithLogits(logits: Tensor, target: Tensor, o: { weight?: Tensor | null; reduction?: Reduction; posWeight?: Tensor | null } = {}): Tensor {
  return wrap(native.bceWithLogits(logits.handle, target.handle, opt(o.weight), o.reduction, opt(o.posWeight)));
}
/** KL(target || input) with `input` as log-probabilities. */
export function klDiv(logInput: Tensor, target: Tensor, reduction: Reduction | 'batchmean' = 'mean', logTarget = false): Tensor {
  if (reduction === 'batchmean') {
    const summed = wrap(native.klDiv(logInput.handle, target.handle, 'sum', logTarget));
    const out = summed.div(logInput.size(0));
    summed.dispose();
    return out;
  }
  return wrap(native.klDiv(logInput.handle, target.handle, reduction, logTarget));
}
