/**
 * Exports a selfsup backbone (ResNet or ViT) to an ONNX model: input `pixel_values`
 * [batch, 3, size, size] (normalised as in training), outputs `pooler_output` [batch, featureDim]
 * (the embedding selfsup computes) and `last_hidden_state` (ViT tokens / ResNet's last map). The
 * batch size is dynamic; opset 17, IR 8. The training normalisation and the architecture travel in
 * the model's metadata (`selfsup.run`), so a consumer can prepare images without selfsup.
 *
 * ```ts
 * writeFileSync('encoder.onnx', backboneToOnnx(backbone, { imageSize: 32, metadata: { 'selfsup.run': JSON.stringify(run) } }));
 * ```
 */
import { ResNet } from '../models/resnet.js';
import { VisionTransformer } from '../models/vit.js';
import type { Layer } from '../nn/index.js';
import { OnnxGraph } from './onnxGraph.js';
import { resnetOnnx } from './onnxResNet.js';
import { vitOnnx } from './onnxVit.js';

export const ONNX_INPUT = 'pixel_values';
export const ONNX_OUTPUTS = { pooled: 'pooler_output', hidden: 'last_hidden_state' } as const;

export function backboneToOnnx(backbone: Layer, o: { imageSize: number; metadata?: Record<string, string>; name?: string }): Uint8Array {
  const g = new OnnxGraph(o.name ?? backbone.constructor.name);
  const pixels = g.input(ONNX_INPUT, ['batch', 3, o.imageSize, o.imageSize]);
  if (backbone instanceof ResNet) {
    const { pooled, map, mapDims } = resnetOnnx(g, backbone, pixels, o.imageSize);
    g.output(pooled, ['batch', backbone.featureDim], ONNX_OUTPUTS.pooled);
    g.output(map, ['batch', ...mapDims], ONNX_OUTPUTS.hidden);
  } else if (backbone instanceof VisionTransformer) {
    if (o.imageSize !== backbone.gridSize * backbone.patchSize) {
      throw new Error(`ONNX export: the ViT's position table is for ${backbone.gridSize * backbone.patchSize} px images, not ${o.imageSize}`);
    }
    const { pooled, tokens, tokenDims } = vitOnnx(g, backbone, pixels);
    g.output(pooled, ['batch', backbone.dim], ONNX_OUTPUTS.pooled);
    g.output(tokens, ['batch', ...tokenDims], ONNX_OUTPUTS.hidden);
  } else {
    throw new Error(`ONNX export: ${backbone.constructor.name} is not a backbone selfsup exports (ResNet, VisionTransformer)`);
  }
  return g.toModel({ metadata: o.metadata, docString: 'selfsup backbone: pixel_values (normalised) -> pooler_output (embedding), last_hidden_state' });
}
