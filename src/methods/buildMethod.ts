/**
 * A method by name, as `selfsup pretrain --method` and configs name it, with the options a config
 * may set (each method keeps its paper's default for what is not set).
 *
 * ```ts
 * const method = buildMethod('byol', backbone, 512, { momentum: 0.99 });
 * ```
 */
import type { Layer } from '../nn/index.js';
import { ResNet, VisionTransformer } from '../models/index.js';
import type { Generator } from '../tensor/index.js';
import { type Normalization, type VisualTokenizer, loadTokenizer } from '../tokenizers/index.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../transforms/index.js';
import { BarlowTwins } from './barlowTwins.js';
import { BEiT } from './beit.js';
import { BYOL } from './byol.js';
import { DINO, DINO_RECIPE } from './dino.js';
import { FastSiam } from './fastSiam.js';
import { DINOv2, DINOV2_RECIPE } from './dinov2.js';
import { IBOT, IBOT_RECIPE } from './ibot.js';
import { IJEPA } from './ijepa.js';
import { MAE } from './mae.js';
import type { SSLMethod } from './method.js';
import { MoCoV2 } from './mocoV2.js';
import { MoCoV3 } from './mocoV3.js';
import { NNCLR } from './nnclr.js';
import { SimCLR } from './simclr.js';
import { SimMIM } from './simmim.js';
import { SimSiam } from './simsiam.js';
import { SupervisedPretraining } from './supervised.js';
import { SwAV } from './swav.js';
import { VICReg } from './vicreg.js';

export const METHOD_NAMES = ['simclr', 'moco_v2', 'moco_v3', 'byol', 'simsiam', 'barlow_twins', 'vicreg', 'nnclr', 'fastsiam', 'swav', 'dino', 'ibot', 'dinov2', 'mae', 'beit', 'simmim', 'ijepa', 'supervised'] as const;
export type MethodName = typeof METHOD_NAMES[number];
/** Methods that mask patches and predict them (pixels, visual tokens, or I-JEPA's representations); they train with AdamW by default. */
export const MASKED_IMAGE_METHODS: readonly MethodName[] = ['mae', 'beit', 'simmim', 'ijepa'];
/** Self-distillation methods: multi-crop views, AdamW with a rising weight decay, clipped gradients. */
export const SELF_DISTILLATION_METHODS: readonly MethodName[] = ['dino', 'ibot', 'dinov2'];
/** Methods whose backbone must be a ViT. */
export const VIT_ONLY_METHODS: readonly MethodName[] = ['mae', 'beit', 'ibot', 'dinov2', 'ijepa'];

export interface MethodOptions {
  temperature?: number;
  /** the projection head's output (the projector's width for Barlow Twins and VICReg) */
  projectionDim?: number;
  hiddenDim?: number;
  /** DINO / iBOT / DINOv2: prototypes, the head's output; SwAV: its prototypes */
  prototypes?: number;
  /** MoCo v2's negatives, NNCLR's support set, SwAV's stored embeddings per global crop */
  queueSize?: number;
  /** SwAV: Sinkhorn-Knopp's epsilon (0.05), the fraction of training with frozen prototypes (0.01) and the one after which the queue fills (0.05) */
  sinkhornEpsilon?: number;
  freezePrototypes?: number;
  queueStart?: number;
  /** EMA momentum (MoCo v2), or the start of the cosine schedule (MoCo v3, BYOL) or of I-JEPA's linear one */
  momentum?: number;
  /** MoCo v2's split batch norm in one process */
  splits?: number;
  lambda?: number;
  stopGradient?: boolean;
  freezePatchProjection?: boolean;
  /** MAE, BEiT, SimMIM: fraction of patches masked (when a step is given no mask); MAE: per-patch normalised targets, decoder size */
  maskRatio?: number;
  normalizePixels?: boolean;
  /** MAE's decoder, or I-JEPA's predictor: width and depth */
  decoderDim?: number;
  decoderDepth?: number;
  /** BEiT: the visual tokenizer (or its file), and the normalisation of the views (default ImageNet's) */
  tokenizer?: VisualTokenizer | string;
  viewNormalize?: Normalization;
  /** DINO / iBOT: the teacher temperature after warm-up (default 0.07, from 0.04) */
  teacherTemperature?: number;
  warmupTeacherTemperature?: number;
  normLastLayer?: boolean;
  headBatchNorm?: boolean;
  /** supervised pretraining: the classes of the source labels, and label smoothing */
  numClasses?: number;
  labelSmoothing?: number;
}

export function buildMethod(name: MethodName, backbone: Layer, featureDim: number, o: MethodOptions = {}, generator?: Generator): SSLMethod {
  const common = { featureDim, generator };
  switch (name) {
    case 'simclr': return new SimCLR(backbone, { ...common, temperature: o.temperature, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim });
    case 'moco_v2': return new MoCoV2(backbone, { ...common, temperature: o.temperature, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim, queueSize: o.queueSize, momentum: o.momentum, splits: o.splits });
    case 'moco_v3': return new MoCoV3(backbone, { ...common, temperature: o.temperature, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim, momentum: o.momentum, freezePatchProjection: o.freezePatchProjection });
    case 'byol': return new BYOL(backbone, { ...common, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim, momentum: o.momentum });
    case 'simsiam': return new SimSiam(backbone, { ...common, projectionDim: o.projectionDim, predictorHiddenDim: o.hiddenDim, stopGradient: o.stopGradient });
    case 'barlow_twins': return new BarlowTwins(backbone, { ...common, hiddenDim: o.hiddenDim ?? o.projectionDim, lambda: o.lambda });
    case 'vicreg': return new VICReg(backbone, { ...common, hiddenDim: o.hiddenDim ?? o.projectionDim });
    case 'nnclr': return new NNCLR(backbone, { ...common, temperature: o.temperature, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim, queueSize: o.queueSize });
    case 'fastsiam': return new FastSiam(backbone, { ...common, projectionDim: o.projectionDim, predictorHiddenDim: o.hiddenDim });
    case 'swav': return new SwAV(backbone, { ...common, temperature: o.temperature, projectionDim: o.projectionDim, hiddenDim: o.hiddenDim,
      prototypes: o.prototypes, queueSize: o.queueSize, epsilon: o.sinkhornEpsilon, freezePrototypes: o.freezePrototypes, queueStart: o.queueStart });
    case 'dino':
    case 'ibot':
    case 'dinov2': {
      // The head's norms as the recipe of the backbone family says (a ResNet: solo-learn's batch-norm head, a free last-layer norm).
      const recipe = { dino: DINO_RECIPE, ibot: IBOT_RECIPE, dinov2: DINOV2_RECIPE }[name][backbone instanceof VisionTransformer ? 'vit' : 'resnet'];
      const options = {
        ...common, outDim: o.prototypes, hiddenDim: o.hiddenDim, momentum: o.momentum, teacherTemperature: o.teacherTemperature,
        warmupTeacherTemperature: o.warmupTeacherTemperature,
        normLastLayer: o.normLastLayer ?? recipe?.options.normLastLayer as boolean | undefined,
        headBatchNorm: o.headBatchNorm ?? recipe?.options.headBatchNorm as boolean | undefined,
      };
      if (name === 'dino') return new DINO(backbone, options);
      if (!(backbone instanceof VisionTransformer)) throw new Error(`method '${name}' needs a ViT backbone (vit_tiny, vit_small, vit_base)`);
      return name === 'ibot' ? new IBOT(backbone, options) : new DINOv2(backbone, options);
    }
    case 'mae':
      if (!(backbone instanceof VisionTransformer)) throw new Error(`method 'mae' needs a ViT backbone (vit_tiny, vit_small, vit_base)`);
      return new MAE(backbone, { maskRatio: o.maskRatio, normalizePixels: o.normalizePixels, decoderDim: o.decoderDim, decoderDepth: o.decoderDepth, generator });
    case 'beit': {
      if (!(backbone instanceof VisionTransformer)) throw new Error(`method 'beit' needs a ViT backbone (vit_tiny, vit_small, vit_base)`);
      if (o.tokenizer === undefined) throw new Error(`method 'beit' needs a visual tokenizer: make one with 'selfsup tokenizer train' and pass --tokenizer <file>`);
      const tokenizer = typeof o.tokenizer === 'string' ? loadTokenizer(o.tokenizer) : o.tokenizer;
      return new BEiT(backbone, tokenizer, { viewNormalize: o.viewNormalize ?? { mean: IMAGENET_MEAN, std: IMAGENET_STD }, maskRatio: o.maskRatio, generator });
    }
    case 'simmim':
      if (!(backbone instanceof VisionTransformer || backbone instanceof ResNet)) throw new Error(`method 'simmim' needs a ViT or a ResNet backbone`);
      return new SimMIM(backbone, { maskRatio: o.maskRatio, generator });
    case 'ijepa':
      if (!(backbone instanceof VisionTransformer)) throw new Error(`method 'ijepa' needs a ViT backbone (vit_tiny, vit_small, vit_base)`);
      return new IJEPA(backbone, { momentum: o.momentum, predictorDim: o.decoderDim, predictorDepth: o.decoderDepth, generator });
    case 'supervised':
      if (o.numClasses === undefined) throw new Error("method 'supervised' needs the number of classes of its labels");
      return new SupervisedPretraining(backbone, { ...common, numClasses: o.numClasses, labelSmoothing: o.labelSmoothing });
    default: throw new Error(`unknown method '${String(name)}' (expected one of ${METHOD_NAMES.join(', ')})`);
  }
}
