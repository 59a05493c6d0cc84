/**
 * `selfsup import --weights <file.safetensors> --out <checkpoint>`: weights a user already has
 * (torchvision ResNets, timm ViTs, another SSL library's backbone, or a selfsup export) as a selfsup
 * checkpoint that every command takes: `eval ... --checkpoint`, `pretrain --init` (continued
 * pretraining), `embed`, `export`. The architecture comes from the flags or from the description a
 * selfsup export carries; what did not fit is reported key by key.
 */
import { readSafetensors, saveCheckpoint } from '../io/index.js';
import { type BackboneDescription, formatImportReport, importBackboneWeights } from '../export/index.js';
import { BACKBONES, type BackboneName, type BackboneSpec, buildBackbone } from '../models/index.js';
import { type Layer, Module } from '../nn/index.js';
import type { RunDescription } from '../runs/index.js';
import { UsageError, choiceOption, integerOption, numberOption, parseOptions, requireString } from './options.js';

export const IMPORT_USAGE = `usage: selfsup import --weights <file.safetensors> --out <checkpoint.safetensors> [options]

  --backbone <name>      ${BACKBONES.join(', ')} (default: from a selfsup export's description)
  --image-size <px>      the images the backbone will see (required unless the file is a selfsup export)
  --stem cifar|imagenet  --width <x>  (ResNet)    --patch-size <n>  --pool cls|mean  --layer-scale <x>  (ViT)
  --mean r,g,b --std r,g,b   the normalisation the weights were trained with (default ImageNet's, as torchvision/timm)
  --prefix <p>           the prefix the backbone's keys are under (default: found: '', module., backbone., ...)
  --allow-missing        keep backbone tensors the file lacks at their initial values instead of refusing`;

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A module whose only child is the backbone, so the checkpoint has `model.backbone.*` as a run's. */
class BackboneHolder extends Module {
  constructor(backbone: Layer) {
    super();
    this.registerModule('backbone', backbone);
  }
}

function triple(value: unknown, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p))) throw new UsageError(`--${name} must be three numbers r,g,b, got '${String(value)}'`);
  return parts;
}

export async function importCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    weights: { type: 'string' }, out: { type: 'string' }, backbone: { type: 'string' }, 'image-size': { type: 'string' }, stem: { type: 'string' },
    width: { type: 'string' }, 'patch-size': { type: 'string' }, pool: { type: 'string' }, 'layer-scale': { type: 'string' },
    mean: { type: 'string' }, std: { type: 'string' }, prefix: { type: 'string' }, 'allow-missing': { type: 'boolean' },
  });
  const [weights, out] = [requireString(v, 'weights'), requireString(v, 'out')];
  const { tensors, metadata } = readSafetensors(weights);
  try {
    let exported: BackboneDescription | undefined;
    try { exported = metadata.selfsup ? JSON.parse(metadata.selfsup) as BackboneDescription : undefined; } catch { exported = undefined; }
    if (exported?.format !== 'selfsup.backbone.v1') exported = undefined;
    const name = v.backbone === undefined ? exported?.backbone.name : choiceOption(v, 'backbone', BACKBONES, 'resnet18');
    if (name === undefined) throw new UsageError(`${weights} is not a selfsup export: say which network it is with --backbone (${BACKBONES.join(', ')})`);
    const imageSize = v['image-size'] === undefined ? exported?.imageSize : integerOption(v, 'image-size', 1);
    if (imageSize === undefined) throw new UsageError('--image-size is required (the side of the images the backbone will see)');
    const same = exported?.backbone.name === name ? exported.backbone : undefined;
    const spec: BackboneSpec = {
      ...same, name: name as BackboneName, imageSize,
      ...(v.stem !== undefined ? { stem: choiceOption(v, 'stem', ['cifar', 'imagenet'] as const, 'imagenet') } : {}),
      ...(v.width !== undefined ? { width: numberOption(v, 'width', 1) } : {}),
      ...(v['patch-size'] !== undefined ? { patchSize: integerOption(v, 'patch-size', 1) } : {}),
      ...(v.pool !== undefined ? { pool: choiceOption(v, 'pool', ['cls', 'mean'] as const, 'cls') } : {}),
      ...(v['layer-scale'] !== undefined ? { layerScale: numberOption(v, 'layer-scale', 0.1) } : {}),
    };
    const normalize = { mean: triple(v.mean, 'mean') ?? exported?.normalize.mean ?? IMAGENET.mean, std: triple(v.std, 'std') ?? exported?.normalize.std ?? IMAGENET.std };
    const { backbone, featureDim } = buildBackbone(spec);
    try {
      const report = importBackboneWeights(backbone, tensors, { prefix: typeof v.prefix === 'string' ? v.prefix : undefined, allowMissing: v['allow-missing'] === true, source: weights });
      const run: RunDescription = { backboneSpec: spec, normalize, size: imageSize, method: 'imported' };
      const imported = { weights, prefix: report.prefix, missing: report.missing, ignored: report.unexpected, resized: report.resized };
      saveCheckpoint(out, { model: new BackboneHolder(backbone), step: 0, extra: { config: { run, imported } } });
      console.log(`imported ${weights} into a ${name} backbone (${featureDim}-d features, ${imageSize} px):\n${formatImportReport(report)}\nwrote ${out}`);
    } finally {
      backbone.dispose();
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
