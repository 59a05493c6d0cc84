/**
 * A method's training recipe as data: the views, the optimizer and its learning rate per 256
 * images, the weight-decay schedule, warm-up, gradient clipping, and the method's own settings
 * (heads, temperatures, EMA momentum, masking), each with the paper or reference code it comes
 * from. Every method keeps its recipe next to it (`SIMCLR_RECIPE` in simclr.ts, ...), one per
 * backbone family where they differ (DINO: AdamW on a ViT, LARS and a batch-norm head on a ResNet).
 * `selfsup pretrain` trains with the recipe and lets the config override any of it;
 * `selfsup recipes show <method>` prints it as a config to edit.
 *
 * ```ts
 * const recipe = SIMCLR_RECIPE.resnet;
 * const lr = recipe.baseLr * batchSize / 256;   // the linear scaling rule (Goyal et al., 2017)
 * ```
 */
import type { ViewRecipe } from '../transforms/index.js';

export type BackboneFamily = 'resnet' | 'vit';
export type OptimizerName = 'sgd' | 'lars' | 'adamw';

/** The method's own settings, under the names a config file uses. */
export interface RecipeOptions {
  /** the softmax temperature of a contrastive loss (SimCLR, MoCo) */
  temperature?: number;
  /** the projection head's output width (SimCLR, MoCo, BYOL, SimSiam) or the projector's width (Barlow Twins, VICReg) */
  projectionDim?: number;
  /** the hidden width of the projection (and prediction) heads */
  hiddenDim?: number;
  /** DINO / iBOT: the number of prototypes, the head's output */
  prototypes?: number;
  /** MoCo v2: negatives in the queue */
  queueSize?: number;
  /** the momentum encoder's EMA momentum (MoCo v2), or where its cosine schedule to 1 starts (MoCo v3, BYOL, DINO, iBOT) */
  emaMomentum?: number;
  /** Barlow Twins: the weight of the off-diagonal terms */
  lambda?: number;
  /** DINO / iBOT: the teacher temperature after its warm-up from 0.04 */
  teacherTemperature?: number;
  /** DINO on a ResNet: batch norm in the head's hidden layers, and the last layer's norm left free */
  headBatchNorm?: boolean;
  normLastLayer?: boolean;
  /** MAE: per-patch normalised pixel targets; MAE's decoder or I-JEPA's predictor: width and depth (by default sized to the patch grid) */
  normalizePixels?: boolean;
  decoderDim?: number;
  decoderDepth?: number;
}

export interface MethodRecipe {
  /** the paper and reference code the values come from */
  source: string;
  views: ViewRecipe;
  optimizer: OptimizerName;
  /** learning rate per 256 images: a run's is baseLr x batchSize x accumulate / 256 */
  baseLr: number;
  weightDecay: number;
  /** where a cosine takes the weight decay by the end of the run (DINO 0.04 -> 0.4); constant when unset */
  finalWeightDecay?: number;
  /** AdamW's (beta1, beta2) (MAE: 0.9, 0.95); PyTorch's (0.9, 0.999) when unset */
  betas?: [number, number];
  /** epochs of linear learning-rate warm-up, at most a tenth of the run */
  warmupEpochs: number;
  /** the global gradient norm is clipped to this (DINO, iBOT: 3) */
  clipGrad?: number;
  /** across processes, batch statistics over every process's batch (default true; MoCo v2's shuffle BN needs its own) */
  syncBatchNorm?: boolean;
  /** what the method asks of its ViT beyond the backbone's defaults (MAE: fixed sin-cos positions; BEiT: layer scale, mean pooling) */
  vitOptions?: { posEmbed?: 'sincos'; layerScale?: number; pool?: 'mean' };
  options: RecipeOptions;
}

/** A method's recipes per backbone family (the same object for both where they do not differ; ViT-only methods have no resnet one). */
export type MethodRecipes = Partial<Record<BackboneFamily, MethodRecipe>>;

/**
 * What a run gets when it picks another optimizer than its recipe's (--optimizer): that optimizer's
 * usual learning rate per 256 images and weight decay (SGD: the MoCo CIFAR-10 demo's; LARS: SimCLR's;
 * AdamW: timm's).
 */
export const OPTIMIZER_DEFAULTS: Record<OptimizerName, { baseLr: number; weightDecay: number }> = {
  sgd: { baseLr: 0.06, weightDecay: 5e-4 },
  lars: { baseLr: 0.3, weightDecay: 1e-6 },
  adamw: { baseLr: 1e-3, weightDecay: 0.05 },
};

/** The same recipe for ResNets and ViTs. */
export function anyBackbone(recipe: MethodRecipe): MethodRecipes {
  return { resnet: recipe, vit: recipe };
}

/** The backbone family of a backbone name (resnet18, vit_tiny, ...). */
export function backboneFamily(backbone: string): BackboneFamily {
  return backbone.startsWith('vit') ? 'vit' : 'resnet';
}
