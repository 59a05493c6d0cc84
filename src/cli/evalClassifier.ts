/**
 * The classifier that `eval robustness` and `eval adversarial` measure: a linear probe on the run's
 * frozen backbone, or with --finetune the whole network fine-tuned (--scratch: from random weights,
 * the supervised baseline), trained on the clean training images and put in evaluation form.
 */
import { extractFeatures, finetune, linearProbe } from '../eval/index.js';
import { buildBackbone } from '../models/index.js';
import type { Layer } from '../nn/index.js';
import { Generator, type Tensor, tidy } from '../tensor/index.js';
import { type ViewConfig } from '../transforms/index.js';
import { methodViews } from '../methods/index.js';
import { type LabelledData, openLabelledData } from './labelledData.js';
import { integerOption, numberOption } from './options.js';
import { type RunDescription, loadRunBackbone } from '../runs/index.js';

export const CLASSIFIER_OPTIONS = {
  checkpoint: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, finetune: { type: 'boolean' }, scratch: { type: 'boolean' },
  epochs: { type: 'string' }, lr: { type: 'string' }, 'batch-size': { type: 'string' }, labels: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
} as const;

export const CLASSIFIER_USAGE = `  --finetune         fine-tune the whole network (default: a linear probe on frozen features)
  --scratch          with --finetune: from random weights (the supervised baseline)
  --epochs <n>       (linear 100, finetune 30)  --lr <x>  --batch-size <n>  --labels <fraction of the training labels>`;

export interface EvalClassifier extends LabelledData {
  /** normalised images [B, 3, s, s] -> logits [B, classes], the network in evaluation form */
  classify: (x: Tensor) => Tensor;
  /** 'linear probe', 'fine-tuned' or 'fine-tuned from scratch' */
  name: string;
  /** its accuracy on the test images, measured by the training routine */
  cleanTop1: number;
  run: RunDescription;
  /** the evaluation view (resize, crop, the run's normalisation) */
  view: ViewConfig;
  dispose(): void;
}

export async function trainEvalClassifier(v: Record<string, unknown>, checkpoint: string, kind: string): Promise<EvalClassifier> {
  const seed = integerOption(v, 'seed', 0, 0);
  const { backbone, featureDim, run } = loadRunBackbone(checkpoint);
  const data = await openLabelledData(v, run.size, kind);
  const { train, test, numClasses } = data;
  const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
  const finetuned = v.finetune === true;
  const scratch = finetuned && v.scratch === true;
  let classify: (x: Tensor) => Tensor;
  let head: Layer;
  let cleanTop1: number;
  if (finetuned) {
    const net = scratch ? buildBackbone(run.backboneSpec, new Generator(seed)).backbone : backbone;
    const result = await finetune(net, train, test, {
      numClasses, featureDim, epochs: integerOption(v, 'epochs', 30), lr: numberOption(v, 'lr', 0.05), batchSize: integerOption(v, 'batch-size', 128),
      backboneLrScale: scratch ? 1 : 0.1, seed, views: { train: methodViews('supervised', { size: run.size, normalize: run.normalize }).views[0], test: view },
      onEpoch: (epoch, loss) => process.stderr.write(`finetune epoch ${epoch + 1}: loss ${loss.toFixed(4)}\n`),
    });
    classify = (x) => result.model.forward(x);
    head = result.model;
    cleanTop1 = result.report.top1;
  } else {
    const probe = tidy(() => linearProbe(extractFeatures(backbone, train, { view }), train.allLabels(), extractFeatures(backbone, test, { view }), test.allLabels(), {
      numClasses, epochs: integerOption(v, 'epochs', 100), lr: numberOption(v, 'lr', 0.1), batchSize: integerOption(v, 'batch-size', 256), seed,
    }));
    classify = (x) => tidy(() => probe.head.forward(backbone.forward(x)));
    head = probe.head;
    cleanTop1 = probe.report.top1;
  }
  // batch norm in evaluation form: the probe's features and the fine-tuned model's test accuracy were measured so
  backbone.eval();
  head.eval();
  const name = finetuned ? (scratch ? 'fine-tuned from scratch' : 'fine-tuned') : 'linear probe';
  return { ...data, classify, name, cleanTop1, run, view, dispose: () => { head.dispose(); backbone.dispose(); } };
}
