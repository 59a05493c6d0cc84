/**
 * Fine-tuning: the backbone and a new linear head trained together on labelled data (all layers,
 * the backbone at `backboneLrScale` of the head's learning rate, SGD + cosine, random resized crops
 * and flips), then tested on the evaluation view. With a freshly initialised backbone and
 * `backboneLrScale: 1` it is the supervised-from-scratch baseline on the same budget, which says
 * whether pretraining helped. With `freezeBackbone` it is the linear probe trained on augmented
 * views (random resized crop + flip) instead of precomputed features. The ViT recipe of BEiT and MAE
 * (He et al., 2022, App. A.3): AdamW, layer-wise learning-rate decay (`layerDecay` 0.75), stochastic
 * depth (`dropPath` 0.1) and label smoothing 0.1 (mixup/cutmix are not included).
 *
 * ```ts
 * const pretrained = await finetune(backbone, train, test, { numClasses: 10, epochs: 30, views });
 * const scratch = await finetune(resnet18({ stem: 'cifar' }), train, test, { numClasses: 10, epochs: 30, views, backboneLrScale: 1 });
 * const vit = await finetune(mae.backbone, train, test, { numClasses: 10, views, optimizer: 'adamw', lr: 5e-4, layerDecay: 0.75, dropPath: 0.1, labelSmoothing: 0.1 });
 * ```
 */
import { DataLoader, type ImageSet } from '../data/index.js';
import { Layer, Linear } from '../nn/index.js';
import { VisionTransformer } from '../models/index.js';
import { AdamW, SGD, layerDecayGroups, warmupCosine } from '../optim/index.js';
import { Generator, type Tensor, crossEntropy, noGrad, tidy } from '../tensor/index.js';
import type { ViewConfig } from '../transforms/index.js';
import { type ClassificationReport, classificationReport } from './classificationReport.js';
import { extractSetFeatures } from './features.js';

/** How `selfsup eval finetune` fine-tunes a pretrained backbone unless flags say otherwise. */
export interface FinetuneRecipe {
  source: string;
  optimizer: 'sgd' | 'adamw';
  /** the backbone's learning rate as a share of the head's (SGD); ViTs decay it per layer instead */
  backboneLrScale: number;
  layerDecay?: number;
  dropPath?: number;
  labelSmoothing: number;
  warmupEpochs: number;
  epochs: number;
  batchSize: number;
}
/** The learning rate of fine-tuning per optimizer (the recipe's, or the one a flag picks). */
export const FINETUNE_LR: Record<FinetuneRecipe['optimizer'], number> = { sgd: 0.05, adamw: 5e-4 };
/** The fine-tuning recipe per backbone family. */
export const FINETUNE_RECIPES: Record<'resnet' | 'vit', FinetuneRecipe> = {
  resnet: {
    source: "all layers with SGD (momentum 0.9) and a cosine, the backbone at a tenth of the head's rate",
    optimizer: 'sgd', backboneLrScale: 0.1, labelSmoothing: 0, warmupEpochs: 0, epochs: 30, batchSize: 128,
  },
  vit: {
    source: 'He et al., 2022 (MAE), App. A.3, as BEiT: AdamW, layer-wise lr decay 0.75, drop path 0.1, label smoothing 0.1, warm-up '
      + '(3 epochs of 30 here; mixup and cutmix are not included)',
    optimizer: 'adamw', backboneLrScale: 0.1, layerDecay: 0.75, dropPath: 0.1, labelSmoothing: 0.1, warmupEpochs: 3, epochs: 30, batchSize: 128,
  },
};

/** A backbone (images -> [N, featureDim]) followed by a linear classifier; optionally a frozen backbone. */
export class Classifier extends Layer {
  readonly head: Linear;
  constructor(readonly backbone: Layer, featureDim: number, numClasses: number, generator?: Generator, readonly frozenBackbone = false) {
    super();
    this.registerModule('backbone', backbone);
    this.head = this.registerModule('head', new Linear(featureDim, numClasses, { generator }));
  }
  forward(x: Tensor): Tensor {
    if (!this.frozenBackbone) return this.head.forward(this.backbone.forward(x));
    // Frozen: eval-mode features without a graph (batch-norm statistics stay those of pretraining).
    const wasTraining = this.backbone.training;
    this.backbone.eval();
    const features = noGrad(() => this.backbone.forward(x));
    this.backbone.train(wasTraining);
    return this.head.forward(features);
  }
}

export interface FinetuneOptions {
  numClasses: number;
  featureDim: number;
  /** training view (random resized crop + flip) and evaluation view (resize/centre) */
  views: { train: ViewConfig; test: ViewConfig };
  epochs?: number;
  batchSize?: number;
  lr?: number;
  backboneLrScale?: number;
  weightDecay?: number;
  seed?: number;
  workers?: number;
  /** train the head only, on augmented views of a frozen backbone (the linear probe with augmentation) */
  freezeBackbone?: boolean;
  /** 'sgd' (momentum 0.9, default) or 'adamw' (0.9, 0.999; the ViT recipe) */
  optimizer?: 'sgd' | 'adamw';
  /** ViT: layer-wise learning-rate decay (replaces backboneLrScale) */
  layerDecay?: number;
  /** ViT: stochastic depth rate of the last block during fine-tuning */
  dropPath?: number;
  labelSmoothing?: number;
  /** epochs of linear warm-up (default 0) */
  warmupEpochs?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export async function finetune(backbone: Layer, train: ImageSet, test: ImageSet, o: FinetuneOptions): Promise<{ report: ClassificationReport; model: Classifier; losses: number[] }> {
  if (!train.labels || !test.labels) throw new Error('finetune: the training and test sets need labels');
  const epochs = o.epochs ?? 30;
  const batchSize = Math.min(o.batchSize ?? 128, train.length);
  const lr = o.lr ?? 0.05;
  const generator = new Generator(o.seed ?? 0);
  const frozen = o.freezeBackbone ?? false;
  const model = new Classifier(backbone, o.featureDim, o.numClasses, generator, frozen);
  model.train();
  const adamw = o.optimizer === 'adamw';
  const weightDecay = o.weightDecay ?? (frozen ? 0 : adamw ? 0.05 : 5e-4);
  const vit = backbone instanceof VisionTransformer ? backbone : null;
  if ((o.layerDecay !== undefined || o.dropPath !== undefined) && !vit) throw new Error('finetune: layerDecay and dropPath are for ViT backbones');
  if (vit && o.dropPath !== undefined) vit.setDropPath(o.dropPath);
  const backboneGroups = frozen ? []
    : vit && o.layerDecay !== undefined ? layerDecayGroups(backbone, weightDecay, o.layerDecay, (name) => vit.layerId(name), vit.blocks.length + 1)
    : backbone.parameterGroups(weightDecay).map((g) => ({ ...g, lrScale: o.backboneLrScale ?? 0.1 }));
  const groups = [...backboneGroups, ...model.head.parameterGroups(weightDecay).map((g) => ({ ...g, lrScale: 1 }))];
  const optimizer = adamw ? new AdamW(groups, { lr, weightDecay }) : new SGD(groups, { lr, momentum: 0.9, weightDecay });
  const loader = new DataLoader(train, { batchSize, views: { views: [o.views.train] }, seed: o.seed ?? 0, workers: o.workers ?? 1 });
  const schedule = warmupCosine({ base: lr, final: 0, totalSteps: epochs * loader.batchesPerEpoch, warmupSteps: Math.floor(Math.min(epochs, o.warmupEpochs ?? 0) * loader.batchesPerEpoch) });
  const losses: number[] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      let total = 0;
      let count = 0;
      for await (const batch of loader.epoch()) {
        optimizer.setLearningRate(schedule(step++));
        total += tidy(() => {
          const loss = crossEntropy(model.forward(batch.views[0]), batch.labels!, { labelSmoothing: o.labelSmoothing });
          loss.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return loss.item() * batch.indices.length;
        });
        count += batch.indices.length;
        for (const v of batch.views) v.dispose();
        batch.labels?.dispose();
      }
      losses.push(total / count);
      o.onEpoch?.(epoch, total / count);
    }
  } finally {
    await loader.close();
    optimizer.dispose(); // its momentum / moment buffers
  }
  const { features: scores, indices } = await extractSetFeatures(model, test, { view: o.views.test, workers: o.workers }); // [N, C] class scores
  const report = tidy(() => classificationReport(scores, test.batchLabels(indices), o.numClasses));
  scores.dispose();
  return { report, model, losses };
}
