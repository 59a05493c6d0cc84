/**
 * A backbone from its name, as configs and checkpoints name it: resnet18/34/50 (CIFAR stem for
 * images of 64 px and less unless told otherwise, width multiplier) or vit_tiny/small/base (patch
 * size, 4 for small images by default; depth, 12 blocks by default). Returns the module and the size
 * of its features.
 *
 * ```ts
 * const { backbone, featureDim } = buildBackbone({ name: 'resnet18', imageSize: 32 });   // 512
 * ```
 */
import type { Layer } from '../nn/index.js';
import type { Generator } from '../tensor/index.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { vitBase, vitSmall, vitTiny } from './vit.js';

export const BACKBONES = ['resnet18', 'resnet34', 'resnet50', 'vit_tiny', 'vit_small', 'vit_base'] as const;
export type BackboneName = typeof BACKBONES[number];

export interface BackboneSpec {
  name: BackboneName;
  imageSize: number;
  stem?: 'cifar' | 'imagenet';
  width?: number;
  patchSize?: number;
  /** ViT position embeddings: learned (default) or fixed sin-cos (MAE) */
  posEmbed?: 'learned' | 'sincos';
  /** ViT feature: cls token (default) or mean of the patch tokens */
  pool?: 'cls' | 'mean';
  /** ViT LayerScale initial value (BEiT: 0.1) */
  layerScale?: number;
  /** ViT blocks (default the named model's 12): fewer for a small budget or a quick check */
  depth?: number;
}

export function buildBackbone(spec: BackboneSpec, generator?: Generator): { backbone: Layer; featureDim: number } {
  const small = spec.imageSize <= 64;
  switch (spec.name) {
    case 'resnet18':
    case 'resnet34':
    case 'resnet50': {
      if (spec.depth !== undefined) throw new Error(`depth ${spec.depth}: a ResNet's depth is in its name (resnet18, resnet34, resnet50); depth is for ViT backbones`);
      const make = { resnet18, resnet34, resnet50 }[spec.name];
      const net = make({ stem: spec.stem ?? (small ? 'cifar' : 'imagenet'), width: spec.width ?? 1, generator });
      return { backbone: net, featureDim: net.featureDim };
    }
    case 'vit_tiny':
    case 'vit_small':
    case 'vit_base': {
      if (spec.depth !== undefined && !(Number.isInteger(spec.depth) && spec.depth >= 1)) throw new Error(`depth ${spec.depth}: expected a whole number of blocks, at least 1`);
      const make = { vit_tiny: vitTiny, vit_small: vitSmall, vit_base: vitBase }[spec.name];
      const net = make({
        imageSize: spec.imageSize, patchSize: spec.patchSize ?? (small ? 4 : 16), posEmbed: spec.posEmbed, layerScale: spec.layerScale, pool: spec.pool,
        ...(spec.depth !== undefined ? { depth: spec.depth } : {}), generator,
      });
      return { backbone: net, featureDim: net.dim };
    }
    default:
      throw new Error(`unknown backbone '${String(spec.name)}' (expected one of ${BACKBONES.join(', ')})`);
  }
}
