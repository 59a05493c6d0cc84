/**
 * A backbone exported for use outside selfsup, in three forms that share one description of the
 * network and its preprocessing:
 * - `<out>.safetensors` + `<out>.json`: the weights under torchvision (ResNet) / timm (ViT) key names
 *   and `selfsup.backbone.v1` JSON (architecture, image size, normalisation), which
 *   tools/selfsup_backbone.py turns back into a PyTorch module;
 * - an ONNX model (see onnxBackbone.ts);
 * - a Hugging Face-style folder (config.json, preprocessor_config.json, onnx/model.onnx,
 *   model.safetensors) of the kind transformers.js feature-extraction pipelines read.
 *
 * ```ts
 * writeBackboneSafetensors('encoder', backbone, describeBackbone(run, featureDim));
 * writeHuggingFaceFolder('encoder-hf', backbone, describeBackbone(run, featureDim));
 * ```
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, writeSafetensors } from '../io/index.js';
import type { BackboneSpec } from '../models/index.js';
import type { Layer } from '../nn/index.js';
import { tidy } from '../tensor/index.js';
import { methodViews } from '../methods/index.js';
import { backboneToOnnx } from './onnxBackbone.js';

export const BACKBONE_FORMAT = 'selfsup.backbone.v1';

/** Everything a consumer needs to rebuild the backbone and prepare images as in training. */
export interface BackboneDescription {
  format: typeof BACKBONE_FORMAT;
  backbone: BackboneSpec;
  /** side of the (square) input images */
  imageSize: number;
  featureDim: number;
  /** per-channel normalisation of pixels in [0, 1], as in training */
  normalize: { mean: number[]; std: number[] };
  /** key convention of the weights */
  keys: 'torchvision' | 'timm';
  /** the eval view: resize the shorter side to imageSize / centerFraction, then crop the centre */
  centerFraction: number;
  /** the run it came from (method, checkpoint), for provenance */
  source: Record<string, string>;
}

export function describeBackbone(
  run: { backboneSpec: BackboneSpec; size: number; normalize: { mean: number[]; std: number[] }; method: string },
  featureDim: number, checkpoint: string,
): BackboneDescription {
  return {
    format: BACKBONE_FORMAT, backbone: run.backboneSpec, imageSize: run.size, featureDim, normalize: run.normalize,
    keys: run.backboneSpec.name.startsWith('vit_') ? 'timm' : 'torchvision',
    centerFraction: methodViews('eval', { size: run.size }).views[0].centerFraction ?? 1, source: { method: run.method, checkpoint },
  };
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** `<prefix>.safetensors` (backbone state dict, description in the metadata) and `<prefix>.json`. */
export function writeBackboneSafetensors(prefix: string, backbone: Layer, d: BackboneDescription): string[] {
  tidy(() => writeSafetensors(`${prefix}.safetensors`, backbone.stateDict(), { format: 'pt', selfsup: JSON.stringify(d) }));
  atomicWriteFile(`${prefix}.json`, [Buffer.from(json(d))]);
  return [`${prefix}.safetensors`, `${prefix}.json`];
}

/** The ONNX model of the backbone with its description in the metadata (`selfsup.backbone`). */
export function backboneOnnxBytes(backbone: Layer, d: BackboneDescription): Uint8Array {
  backbone.eval();
  return backboneToOnnx(backbone, {
    imageSize: d.imageSize, name: d.backbone.name,
    metadata: { 'selfsup.backbone': JSON.stringify(d), image_mean: d.normalize.mean.join(','), image_std: d.normalize.std.join(',') },
  });
}

/** Hugging Face's config.json: the model type its libraries map to a ViT / ResNet feature extractor. */
function huggingFaceConfig(d: BackboneDescription): Record<string, unknown> {
  const vit = d.keys === 'timm';
  return {
    model_type: vit ? 'vit' : 'resnet', architectures: [vit ? 'ViTModel' : 'ResNetModel'], num_channels: 3, image_size: d.imageSize,
    ...(vit ? { hidden_size: d.featureDim, patch_size: d.backbone.patchSize } : { hidden_sizes: [d.featureDim] }),
    selfsup: d,
  };
}

/** preprocessor_config.json: resize the shorter side, centre crop, rescale to [0, 1], normalise with the training statistics. */
function preprocessorConfig(d: BackboneDescription): Record<string, unknown> {
  return {
    image_processor_type: 'BitImageProcessor', do_resize: true, size: { shortest_edge: Math.round(d.imageSize / d.centerFraction) }, resample: 2,
    do_center_crop: true, crop_size: { height: d.imageSize, width: d.imageSize }, do_rescale: true, rescale_factor: 1 / 255,
    do_normalize: true, image_mean: d.normalize.mean, image_std: d.normalize.std, do_convert_rgb: true,
  };
}

/** The files of a Hugging Face-style folder, relative to it. */
export const HF_FOLDER_FILES = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx', 'model.safetensors', 'model.json'];

/** The folder: config.json, preprocessor_config.json, onnx/model.onnx, model.safetensors (+ selfsup.json). */
export function writeHuggingFaceFolder(dir: string, backbone: Layer, d: BackboneDescription): string[] {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  atomicWriteFile(join(dir, 'onnx', 'model.onnx'), [backboneOnnxBytes(backbone, d)]);
  atomicWriteFile(join(dir, 'config.json'), [Buffer.from(json(huggingFaceConfig(d)))]);
  atomicWriteFile(join(dir, 'preprocessor_config.json'), [Buffer.from(json(preprocessorConfig(d)))]);
  writeBackboneSafetensors(join(dir, 'model'), backbone, d);
  return HF_FOLDER_FILES.map((f) => join(dir, f));
}
