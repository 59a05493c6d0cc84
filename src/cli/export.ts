/**
 * `selfsup export --checkpoint <run> --format onnx|safetensors|hf --out <path>`: the backbone of a
 * run for use outside selfsup (deployment with onnxruntime, PyTorch, transformers.js-style folders).
 */
import { join } from 'node:path';
import { atomicWriteFile } from '../io/index.js';
import { HF_FOLDER_FILES, backboneOnnxBytes, describeBackbone, writeBackboneSafetensors, writeHuggingFaceFolder } from '../export/index.js';
import { checkOutputPaths, choiceOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from '../runs/index.js';

export const EXPORT_USAGE = `usage: selfsup export --checkpoint <file> --format onnx|safetensors|hf --out <path>

  onnx         <out>: an ONNX model (opset 17, dynamic batch): input pixel_values [batch, 3, size, size]
               normalised as in training, outputs pooler_output [batch, dim] (the embedding) and
               last_hidden_state (ViT tokens, ResNet's last map); the normalisation is in its metadata
  safetensors  <out>.safetensors with torchvision (ResNet) / timm (ViT) key names and <out>.json (architecture,
               image size, normalisation); python3 tools/selfsup_backbone.py builds the PyTorch module from them
  hf           the folder <out>/: config.json, preprocessor_config.json, onnx/model.onnx, model.safetensors
               (the layout of transformers.js feature-extraction models; see examples/onnx-embeddings.mjs)`;

export async function exportCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, { checkpoint: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } });
  const checkpoint = requireString(v, 'checkpoint');
  const format = choiceOption(v, 'format', ['onnx', 'safetensors', 'hf'] as const, 'onnx');
  const out = requireString(v, 'out');
  const stem = out.replace(/\.safetensors$/, '');
  checkOutputPaths(...(format === 'onnx' ? [out] : format === 'safetensors' ? [`${stem}.safetensors`, `${stem}.json`] : HF_FOLDER_FILES.map((f) => join(out, f))));
  const { backbone, featureDim, run } = loadRunBackbone(checkpoint);
  try {
    const description = describeBackbone(run, featureDim, checkpoint);
    let written: string[];
    if (format === 'onnx') {
      atomicWriteFile(out, [backboneOnnxBytes(backbone, description)]);
      written = [out];
    } else if (format === 'safetensors') {
      written = writeBackboneSafetensors(stem, backbone, description);
    } else {
      written = writeHuggingFaceFolder(out, backbone, description);
    }
    console.log(`exported the ${run.backboneSpec.name} backbone (${featureDim}-d features, ${run.size} px images): ${written.join(', ')}`);
  } finally {
    backbone.dispose();
  }
}
