/**
 * Detection accuracy as COCO's evaluation computes it (pycocotools' COCOeval, bbox, area 'all'):
 * per class and IoU threshold, detections of all images sorted by score (at most maxDets per image and class)
 * are matched greedily to the unmatched ground-truth box of highest IoU >= threshold in their image;
 * precision is made monotone from the right and sampled at 101 recall points (0, 0.01, ..., 1); AP is
 * their mean. mAP@0.5 averages over classes at IoU 0.5, mAP@[.5:.95] over classes and the ten
 * thresholds 0.5, 0.55, ..., 0.95. Classes without ground truth are left out of the means.
 *
 * ```ts
 * const m = detectionMetrics(predictions, truth, { numClasses: 3 });
 * m.mAP50; m.mAP; m.ap50PerClass[0];
 * ```
 */
import type { Box, LabelledBox } from '../data/index.js';

export interface Detection extends LabelledBox { score: number }

export interface DetectionMetrics {
  /** mAP at IoU 0.5 */
  mAP50: number;
  /** mAP at IoU 0.75 */
  mAP75: number;
  /** mAP averaged over IoU 0.5:0.05:0.95 (COCO's primary metric) */
  mAP: number;
  /** AP at IoU 0.5 per class (NaN for a class with no ground truth) */
  ap50PerClass: number[];
  /** AP over 0.5:0.95 per class */
  apPerClass: number[];
}

/** Intersection over union of two [x1, y1, x2, y2] boxes (continuous coordinates, as COCO). */
export function boxIoU(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

export const COCO_IOU_THRESHOLDS = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);
const RECALL_POINTS = Array.from({ length: 101 }, (_, i) => i / 100);

/** AP of one class at one threshold: detections and truths per image. NaN without ground truth. */
export function averagePrecision(detections: Detection[][], truths: Box[][], threshold: number): number {
  const total = truths.reduce((n, t) => n + t.length, 0);
  if (total === 0) return Number.NaN;
  const flat = detections.flatMap((list, image) => list.map((d, order) => ({ d, image, order })));
  // by score, ties in image then detection order (a stable sort, as COCO's mergesort)
  flat.sort((a, b) => b.d.score - a.d.score || a.image - b.image || a.order - b.order);
  const matched = truths.map((t) => t.map(() => false));
  const tp: number[] = [];
  for (const { d, image } of flat) {
    let best = -1;
    let bestIoU = Math.min(threshold, 1 - 1e-10);
    truths[image].forEach((gt, g) => {
      if (matched[image][g]) return;
      const iou = boxIoU(d.box, gt);
      if (iou >= bestIoU) [best, bestIoU] = [g, iou];
    });
    if (best >= 0) matched[image][best] = true;
    tp.push(best >= 0 ? 1 : 0);
  }
  const precision: number[] = [];
  const recall: number[] = [];
  let [hits, seen] = [0, 0];
  for (const t of tp) {
    hits += t;
    seen += 1;
    precision.push(hits / seen);
    recall.push(hits / total);
  }
  for (let i = precision.length - 2; i >= 0; i--) precision[i] = Math.max(precision[i], precision[i + 1]);
  let sum = 0;
  for (const r of RECALL_POINTS) {
    const i = recall.findIndex((value) => value >= r); // searchsorted(recall, r, 'left')
    if (i >= 0) sum += precision[i];
  }
  return sum / RECALL_POINTS.length;
}

const meanOf = (values: number[]) => {
  const kept = values.filter((v) => !Number.isNaN(v));
  return kept.length > 0 ? kept.reduce((a, b) => a + b, 0) / kept.length : Number.NaN;
};

/** COCO-style AP of `predictions` against `truth` (both per image). */
export function detectionMetrics(predictions: Detection[][], truth: LabelledBox[][], o: { numClasses: number; maxDetections?: number }): DetectionMetrics {
  if (predictions.length !== truth.length) throw new Error(`detectionMetrics: ${predictions.length} images of predictions, ${truth.length} of ground truth`);
  const maxDets = o.maxDetections ?? 100;
  // COCOeval keeps the maxDets best of each image and class
  const ofClass = (c: number) => predictions.map((list) => list.filter((d) => d.label === c).sort((a, b) => b.score - a.score).slice(0, maxDets));
  const perClass = Array.from({ length: o.numClasses }, (_, c) => ({ detections: ofClass(c), truths: truth.map((list) => list.filter((t) => t.label === c).map((t) => t.box)) }));
  const perThreshold = COCO_IOU_THRESHOLDS.map((threshold) => perClass.map(({ detections, truths }) => averagePrecision(detections, truths, threshold)));
  const apPerClass = Array.from({ length: o.numClasses }, (_, c) => meanOf(perThreshold.map((row) => row[c])));
  return { mAP50: meanOf(perThreshold[0]), mAP75: meanOf(perThreshold[5]), mAP: meanOf(apPerClass), ap50PerClass: perThreshold[0], apPerClass };
}
