/**
 * Weighted k-nearest-neighbour classification on L2-normalised features (Wu et al., 2018,
 * "Unsupervised feature learning via non-parametric instance discrimination", Sec. 3.4; the
 * monitor of the MoCo CIFAR demo, lightly and VISSL): each of the k most cosine-similar training
 * images votes for its class with weight exp(similarity / T). k = 200, T = 0.1 by default.
 *
 * ```ts
 * const { top1, top5 } = knnAccuracy(trainFeats, trainLabels, testFeats, testLabels);
 * ```
 */
import { type Tensor, cat, normalize, tidy, zeros } from '../tensor/index.js';

export interface KnnOptions {
  k?: number;
  temperature?: number;
  /** classes (default: the largest label + 1) */
  numClasses?: number;
  /** test rows scored at once */
  chunk?: number;
}

/** Class scores [M, C] of the test features by weighted votes of their k nearest training features. */
export function knnScores(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, o: KnnOptions = {}): Tensor {
  if (trainFeatures.ndim !== 2 || testFeatures.ndim !== 2 || trainFeatures.size(1) !== testFeatures.size(1)) {
    throw new Error(`knn: expected features [N, D] and [M, D], got [${trainFeatures.shape.join(', ')}] and [${testFeatures.shape.join(', ')}]`);
  }
  if (trainLabels.ndim !== 1 || trainLabels.size(0) !== trainFeatures.size(0)) {
    throw new Error(`knn: expected ${trainFeatures.size(0)} training labels, got [${trainLabels.shape.join(', ')}]`);
  }
  const k = Math.min(o.k ?? 200, trainFeatures.size(0));
  const temperature = o.temperature ?? 0.1;
  if (!(k >= 1 && temperature > 0)) throw new Error(`knn: need k >= 1 and temperature > 0, got k = ${o.k}, temperature = ${temperature}`);
  const numClasses = o.numClasses ?? tidy(() => trainLabels.max().item()) + 1;
  const chunk = o.chunk ?? 512;
  return tidy(() => {
    const train = normalize(trainFeatures.float(), { dim: 1 });                 // [N, D]
    const labels = trainLabels.long();
    const test = normalize(testFeatures.float(), { dim: 1 });                   // [M, D]
    const parts: Tensor[] = [];
    for (let start = 0; start < test.size(0); start += chunk) {
      const rows = test.narrow(0, start, Math.min(chunk, test.size(0) - start));
      const [similarity, neighbours] = rows.matmul(train.T).topk(k, 1);        // [m, k]
      const weights = similarity.div(temperature).exp();                       // [m, k]
      const votes = labels.index([neighbours]);                                // [m, k] class of each neighbour
      const part = zeros([rows.size(0), numClasses]).scatterAdd(1, votes, weights); // [m, C]
      parts.push(part);
    }
    return cat(parts, 0);
  });
}

export interface Accuracy {
  top1: number;
  top5: number;
}

/** Top-1 / top-5 accuracy (fractions) of class scores [M, C] against labels [M]. */
export function accuracy(scores: Tensor, labels: Tensor): Accuracy {
  return tidy(() => {
    const k = Math.min(5, scores.size(1));
    const [, best] = scores.topk(k, 1);                                        // [M, k]
    const hits = best.eq(labels.long().view(-1, 1));                           // [M, k]
    return {
      top1: hits.select(1, 0).float().mean().item(),
      top5: hits.any(1).float().mean().item(),
    };
  });
}

export function knnAccuracy(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor, o: KnnOptions = {}): Accuracy {
  return tidy(() => accuracy(knnScores(trainFeatures, trainLabels, testFeatures, o), testLabels));
}
