/**
 * What a classifier got right: top-1 / top-5 accuracy, accuracy per class and the confusion
 * matrix (rows: true class, columns: predicted), from class scores and labels.
 *
 * ```ts
 * const report = classificationReport(logits, labels, 10);
 * report.perClass[3];   // accuracy on class 3
 * ```
 */
import { type Tensor, tidy } from '../tensor/index.js';
import { accuracy } from './knn.js';

export interface ClassificationReport {
  top1: number;
  top5: number;
  perClass: number[];
  confusion: number[][];
}

export function classificationReport(scores: Tensor, labels: Tensor, numClasses: number): ClassificationReport {
  const { top1, top5 } = accuracy(scores, labels);
  const [predicted, truth] = tidy(() => [scores.argmax(1).int().data<Int32Array>(), labels.int().data<Int32Array>()]);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[truth[i]][predicted[i]]++;
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[c] / total;
  });
  return { top1, top5, perClass, confusion };
}
