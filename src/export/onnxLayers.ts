/**
 * selfsup's layers as ONNX operators, in evaluation form: a convolution, batch normalisation with
 * its running statistics, a linear layer (MatMul by the transposed weight, then Add), layer
 * normalisation and the exact (erf) GELU. Each takes the value name of its input and the layer's
 * path in the state dict, which names its weights and output.
 */
import type { BatchNorm, Conv2d, LayerNorm, Linear } from '../nn/index.js';
import { onesLike, tidy, zerosLike } from '../tensor/index.js';
import { type OnnxGraph, float } from './onnxGraph.js';

export function convOnnx(g: OnnxGraph, x: string, conv: Conv2d, path: string): string {
  const o = conv.options;
  if (typeof o.padding === 'string') throw new Error(`ONNX export: ${path} uses padding '${o.padding}'; only numeric padding is exported`);
  const pad = o.padding ?? 0;
  const inputs = [x, g.weight(`${path}.weight`, conv.weight)];
  if (conv.bias) inputs.push(g.weight(`${path}.bias`, conv.bias));
  const k = conv.kernelSize;
  const d = o.dilation ?? 1;
  const s = o.stride ?? 1;
  return g.node('Conv', inputs, { kernel_shape: [k, k], strides: [s, s], pads: [pad, pad, pad, pad], dilations: [d, d], group: o.groups ?? 1 }, path);
}

/** Inference-mode batch normalisation: (x - running_mean) / sqrt(running_var + eps) * weight + bias. */
export function batchNormOnnx(g: OnnxGraph, x: string, bn: BatchNorm, path: string): string {
  if (!bn.runningMean || !bn.runningVar) throw new Error(`ONNX export: ${path} has no running statistics to normalise with`);
  const c = bn.numFeatures;
  const scale = bn.weight ? g.weight(`${path}.weight`, bn.weight) : tidy(() => g.weight(`${path}.weight`, onesLike(bn.runningMean!)));
  const shift = bn.bias ? g.weight(`${path}.bias`, bn.bias) : tidy(() => g.weight(`${path}.bias`, zerosLike(bn.runningMean!)));
  if (bn.runningMean.shape[0] !== c) throw new Error(`ONNX export: ${path} running statistics do not have ${c} channels`);
  return g.node('BatchNormalization', [x, scale, shift, g.weight(`${path}.running_mean`, bn.runningMean), g.weight(`${path}.running_var`, bn.runningVar)],
    { epsilon: float(bn.eps) }, path);
}

/** y = x W^T + b over the last axis of any [..., in] input. */
export function linearOnnx(g: OnnxGraph, x: string, fc: Linear, path: string): string {
  const transposed = tidy(() => fc.weight.transpose(0, 1));
  const product = g.node('MatMul', [x, g.weight(`${path}.weight_t`, transposed)], {}, `${path}.matmul`);
  transposed.dispose();
  return fc.bias ? g.node('Add', [product, g.weight(`${path}.bias`, fc.bias)], {}, path) : product;
}

/** Layer normalisation over the last axis (ONNX LayerNormalization, opset 17). */
export function layerNormOnnx(g: OnnxGraph, x: string, norm: LayerNorm, path: string): string {
  if (!norm.weight || !norm.bias) throw new Error(`ONNX export: ${path} has no affine parameters`);
  return g.node('LayerNormalization', [x, g.weight(`${path}.weight`, norm.weight), g.weight(`${path}.bias`, norm.bias)], { axis: -1, epsilon: float(norm.eps) }, path);
}

/** GELU(x) = x/2 (1 + erf(x / sqrt 2)), PyTorch's default (not the tanh approximation). */
export function geluOnnx(g: OnnxGraph, x: string, path: string, constants: { invSqrt2: string; one: string; half: string }): string {
  const erf = g.node('Erf', [g.node('Mul', [x, constants.invSqrt2], {}, `${path}.scaled`)], {}, `${path}.erf`);
  const gate = g.node('Add', [erf, constants.one], {}, `${path}.gate`);
  return g.node('Mul', [g.node('Mul', [x, gate], {}, `${path}.gated`), constants.half], {}, path);
}
