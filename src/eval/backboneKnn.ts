/**
 * The kNN accuracy of a backbone on labelled images: frozen features of a bank and of queries
 * under the evaluation view, then weighted kNN (k = 200, T = 0.1 by default); the queries' classes
 * matched to the bank's by name, queries of a class the bank lacks left out (see data/classAlignment.ts).
 * The online monitor of the trainer, the demo and the benchmarks measure with it.
 *
 * `setKnn` does the same for any data sets, streamed photos included (features batch by batch,
 * unreadable photos left out).
 *
 * ```ts
 * const { top1 } = backboneKnn(backbone, trainImages, testImages, evalView);
 * const photos = await setKnn(backbone, bankPhotos, queryPhotos, evalView);
 * ```
 */
import { type ImageArray, type ImageSet, alignClasses } from '../data/index.js';
import type { Layer } from '../nn/index.js';
import { tidy } from '../tensor/index.js';
import type { ViewConfig } from '../transforms/index.js';
import { extractFeatures, extractSetFeatures } from './features.js';
import { type Accuracy, type KnnOptions, knnAccuracy } from './knn.js';

/** `precision`: the features' forward in 'fp32' (default) or under bfloat16 autocast (see extractFeatures). */
export function backboneKnn(backbone: Layer, bank: ImageArray, queries: ImageArray, view: ViewConfig, o: KnnOptions & { precision?: 'fp32' | 'bf16' } = {}): Accuracy {
  const matched = alignClasses(bank, queries, { unknown: 'drop' }).images;
  const features = { view, precision: o.precision };
  return tidy(() => knnAccuracy(
    extractFeatures(backbone, bank, features), bank.allLabels(), extractFeatures(backbone, matched, features), matched.allLabels(), o,
  ));
}

/** {@link backboneKnn} for any data sets (in memory or streamed photos). */
export async function setKnn(backbone: Layer, bank: ImageSet, queries: ImageSet, view: ViewConfig, o: KnnOptions & { precision?: 'fp32' | 'bf16' } = {}): Promise<Accuracy> {
  const matched = alignClasses(bank, queries, { unknown: 'drop' }).images;
  const features = { view, precision: o.precision };
  const [b, q] = [await extractSetFeatures(backbone, bank, features), await extractSetFeatures(backbone, matched, features)];
  try {
    return tidy(() => knnAccuracy(b.features, bank.batchLabels(b.indices), q.features, matched.batchLabels(q.indices), o));
  } finally {
    b.features.dispose();
    q.features.dispose();
  }
}
