/**
 * A ResNet backbone (src/models/resnet.ts) as an ONNX graph in evaluation form, node for node as
 * its forward: stem (conv, batch norm, ReLU, max-pool for the ImageNet stem), the residual stages
 * (BasicBlock or Bottleneck, with their downsample shortcuts), global average pooling.
 * Outputs: `pooler_output` [batch, featureDim] (what `backbone.forward` returns) and
 * `last_hidden_state` [batch, featureDim, h, w] (the last feature map).
 */
import { BasicBlock, Bottleneck, type ResNet } from '../models/resnet.js';
import { BatchNorm, Conv2d, type Layer } from '../nn/index.js';
import { batchNormOnnx, convOnnx } from './onnxLayers.js';
import type { OnnxGraph } from './onnxGraph.js';

export function resnetOnnx(g: OnnxGraph, net: ResNet, pixels: string, imageSize: number): { pooled: string; map: string; mapDims: number[] } {
  let x = convOnnx(g, pixels, net.conv1, 'conv1');
  x = g.node('Relu', [batchNormOnnx(g, x, net.bn1, 'bn1')], {}, 'relu');
  let side = Math.floor((imageSize + 2 * (net.conv1.options.padding as number) - net.conv1.kernelSize) / (net.conv1.options.stride ?? 1)) + 1;
  if (net.stem === 'imagenet') {
    x = g.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 'maxpool');
    side = Math.floor((side + 2 - 3) / 2) + 1;
  }
  net.layers.forEach((stage, s) => {
    stage.layers.forEach((block, b) => {
      x = blockOnnx(g, x, block, `layer${s + 1}.${b}`);
      if (b === 0 && s > 0) side = Math.floor((side - 1) / 2) + 1; // 3x3 stride 2, padding 1
    });
  });
  if (net.fc !== null) throw new Error('ONNX export: a ResNet with a classifier (fc) is not a backbone; export the backbone of a run');
  const pooled = g.node('Flatten', [g.node('GlobalAveragePool', [x], {}, 'avgpool')], { axis: 1 }, 'pooled');
  return { pooled, map: x, mapDims: [net.featureDim, side, side] };
}

function blockOnnx(g: OnnxGraph, x: string, block: Layer, path: string): string {
  let out: string;
  if (block instanceof BasicBlock) {
    out = g.node('Relu', [batchNormOnnx(g, convOnnx(g, x, block.conv1, `${path}.conv1`), block.bn1, `${path}.bn1`)], {}, `${path}.relu1`);
    out = batchNormOnnx(g, convOnnx(g, out, block.conv2, `${path}.conv2`), block.bn2, `${path}.bn2`);
  } else if (block instanceof Bottleneck) {
    out = g.node('Relu', [batchNormOnnx(g, convOnnx(g, x, block.conv1, `${path}.conv1`), block.bn1, `${path}.bn1`)], {}, `${path}.relu1`);
    out = g.node('Relu', [batchNormOnnx(g, convOnnx(g, out, block.conv2, `${path}.conv2`), block.bn2, `${path}.bn2`)], {}, `${path}.relu2`);
    out = batchNormOnnx(g, convOnnx(g, out, block.conv3, `${path}.conv3`), block.bn3, `${path}.bn3`);
  } else {
    throw new Error(`ONNX export: ${path} is a ${block.constructor.name}, not a ResNet block`);
  }
  let shortcut = x;
  if (block.downsample) {
    const [conv, bn] = block.downsample.layers;
    if (!(conv instanceof Conv2d && bn instanceof BatchNorm)) throw new Error(`ONNX export: ${path}.downsample is not a convolution and a batch norm`);
    shortcut = batchNormOnnx(g, convOnnx(g, x, conv, `${path}.downsample.0`), bn, `${path}.downsample.1`);
  }
  return g.node('Relu', [g.node('Add', [out, shortcut], {}, `${path}.add`)], {}, `${path}.out`);
}
