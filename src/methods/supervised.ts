/**
 * Supervised pretraining, the baseline the SSL papers compare against (e.g. SimCLR Sec. 6, MoCo
 * Sec. 4.2, "supervised pre-training on the same data"): the same backbone with a linear classifier
 * trained by cross-entropy on the source labels, with the standard supervised augmentation (random
 * resized crop 0.08-1 + flip) for the same number of epochs as an SSL run. The classifier is dropped
 * afterwards: the backbone is evaluated, exported and transferred like any pretrained one.
 *
 * ```ts
 * const supervised = new SupervisedPretraining(resnet18({ stem: 'cifar' }), { featureDim: 512, numClasses: 10 });
 * const { loss } = supervised.step([view], null, labels);   // [B, 3, 32, 32], int64 [B]
 * ```
 */
import { Linear, type Layer } from '../nn/index.js';
import { type Generator, type Tensor, cat, crossEntropy } from '../tensor/index.js';
import { type MethodStep, SSLMethod } from './method.js';
import { type MethodRecipes, anyBackbone } from './recipe.js';
import { EVALUATION_VIEW_RECIPES } from '../transforms/index.js';

export const SUPERVISED_RECIPE: MethodRecipes = anyBackbone({
  source: 'the standard supervised baseline (torchvision\'s reference training): random resized crop 0.08-1 + flip, SGD 0.1 per 256, weight decay 5e-4',
  views: EVALUATION_VIEW_RECIPES.linear,
  optimizer: 'sgd', baseLr: 0.1, weightDecay: 5e-4, warmupEpochs: 10,
  options: {},
});

export interface SupervisedOptions {
  featureDim: number;
  numClasses: number;
  /** label smoothing of the cross-entropy (default 0) */
  labelSmoothing?: number;
  generator?: Generator;
}

export class SupervisedPretraining extends SSLMethod {
  readonly classifier: Linear;
  readonly labelSmoothing: number;

  constructor(readonly backbone: Layer, o: SupervisedOptions) {
    super();
    if (!(Number.isInteger(o.numClasses) && o.numClasses >= 2)) throw new Error(`supervised pretraining: numClasses must be an integer >= 2, got ${o.numClasses}`);
    this.registerModule('backbone', backbone);
    this.classifier = this.registerModule('classifier', new Linear(o.featureDim, o.numClasses, { generator: o.generator }));
    this.labelSmoothing = o.labelSmoothing ?? 0;
  }

  step(views: Tensor[], _mask: Tensor | null, labels?: Tensor | null): MethodStep {
    if (!labels) throw new Error('supervised pretraining needs labels: class folders, a CSV with labels, CIFAR, ...');
    const target = cat(views.map(() => labels), 0); // every view of an image has its label
    const logits = this.classifier.forward(this.backbone.forward(cat(views, 0))); // [V*B, classes]
    const loss = crossEntropy(logits, target, { labelSmoothing: this.labelSmoothing });
    const top1 = logits.argmax(1).eq(target).float().mean().item();
    return { loss, metrics: { 'supervised/train_top1': top1 } };
  }
}
