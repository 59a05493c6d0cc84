/**
 * Linear probe: a linear classifier trained on frozen features (the standard SSL protocol;
 * SimCLR Sec. 4.2, MoCo, MAE Sec. 4.3). Features are standardised with the training set's mean
 * and std (MAE's BatchNorm without affine before the head, in its evaluation form), then SGD
 * with momentum 0.9 and a cosine learning rate, 100 epochs by default, on precomputed features.
 * The returned head has the standardisation folded in: it takes raw features.
 *
 * ```ts
 * const { report } = linearProbe(trainFeats, trainLabels, testFeats, testLabels, { numClasses: 10 });
 * report.top1;
 * ```
 */
import { Linear } from '../nn/index.js';
import { SGD, minibatchEpoch, warmupCosine } from '../optim/index.js';
import { Generator, type Tensor, crossEntropy, noGrad, tidy } from '../tensor/index.js';
import { type ClassificationReport, classificationReport } from './classificationReport.js';

export interface LinearProbeOptions {
  numClasses: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** called after each epoch with its mean training loss */
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface LinearProbeResult {
  report: ClassificationReport;
  head: Linear;
  /** mean training loss of the first and the last epoch */
  losses: [number, number];
}

export function linearProbe(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor, o: LinearProbeOptions): LinearProbeResult {
  const epochs = o.epochs ?? 100;
  const batchSize = o.batchSize ?? 256;
  if (!(Number.isInteger(epochs) && epochs >= 1 && Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`linearProbe: epochs and batchSize must be positive integers, got ${epochs} and ${batchSize}`);
  }
  const n = trainFeatures.size(0);
  const generator = new Generator(o.seed ?? 0);
  const head = new Linear(trainFeatures.size(1), o.numClasses, { generator });
  const optimizer = new SGD(head.parameters(), { lr: o.lr ?? 0.1, momentum: 0.9, weightDecay: o.weightDecay ?? 0 });
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const schedule = warmupCosine({ base: o.lr ?? 0.1, final: 0, totalSteps: epochs * stepsPerEpoch });
  const [mean, std] = tidy(() => [trainFeatures.mean(0, true), trainFeatures.std(0, false, true).add(1e-6)]);
  const losses: number[] = [];
  try {
    const train = tidy(() => trainFeatures.sub(mean).div(std));
    const labels = trainLabels.long();
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const loss = minibatchEpoch(n, { batchSize, generator, optimizer, beforeStep: () => optimizer.setLearningRate(schedule(step++)) },
        (index) => crossEntropy(head.forward(train.indexSelect(0, index)), labels.indexSelect(0, index)));
      losses.push(loss);
      o.onEpoch?.(epoch, loss);
    }
    train.dispose();
    labels.dispose();
    // Fold the standardisation into the head, so that it takes raw features:
    // W (x - m) / s + b = (W / s) x + (b - (W / s) m).
    noGrad(() => tidy(() => {
      const scaled = head.weight.div(std);                                       // [C, D]
      head.bias!.copy_(head.bias!.sub(scaled.matmul(mean.view(-1))));
      head.weight.copy_(scaled);
    }));
    const report = noGrad(() => tidy(() => classificationReport(head.forward(testFeatures), testLabels, o.numClasses)));
    return { report, head, losses: [losses[0], losses[losses.length - 1]] };
  } finally {
    optimizer.dispose();
    mean.dispose();
    std.dispose();
  }
}
