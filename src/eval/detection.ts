/**
 * Detection transfer: CenterNet's head (src/models/centerNetHead.ts) trained on a pretrained
 * backbone's dense features (a ViT's patch tokens, a ResNet's last map), the backbone frozen (its
 * features computed once) or fine-tuned at a tenth of the head's learning rate, AdamW with a cosine
 * schedule; then the test images' boxes are decoded and scored with COCO's mAP@0.5 and
 * mAP@[.5:.95]. Losses: the penalty-reduced focal loss on the centre heatmaps, L1 on sizes and
 * offsets at the centres (each averaged over objects), as the paper's (sizes in cells here, weight 1).
 *
 * ```ts
 * const r = await trainDetector(backbone, syntheticDetection(1000), syntheticDetection(300, { seed: 1 }), { view, epochs: 30 });
 * r.mAP50; r.mAP; r.predictions[0];
 * ```
 */
import type { DetectionSet } from '../data/index.js';
import { centerNetFocalLoss } from '../losses/index.js';
import { CenterNetHead } from '../models/index.js';
import type { Layer } from '../nn/index.js';
import { AdamW, minibatchEpoch } from '../optim/index.js';
import { Generator, type Tensor, noGrad, tidy } from '../tensor/index.js';
import { type ViewConfig, applyView } from '../transforms/index.js';
import { type CenterNetTargets, centerNetTargets, decodeCenterNet } from './centerNetBoxes.js';
import { type Detection, type DetectionMetrics, detectionMetrics } from './detectionMetrics.js';
import { extractFeatures } from './features.js';
import { denseFeatures } from './segmentationProbe.js';

export interface DetectorOptions {
  /** the evaluation view of the run (its size must be the images' size; normalisation) */
  view: ViewConfig;
  numClasses?: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  /** train the backbone too (at backboneLrScale of the head's rate); default frozen */
  finetune?: boolean;
  backboneLrScale?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface DetectorResult extends DetectionMetrics {
  head: CenterNetHead;
  /** mean training loss of the first and the last epoch */
  losses: [number, number];
  /** the decoded boxes of each test image */
  predictions: Detection[][];
  /** pixels per cell of the feature map */
  stride: number;
}

/** The head's loss on maps [B, C, h, w] against targets of the same cells. */
function detectionLoss(head: CenterNetHead, map: Tensor, t: CenterNetTargets): Tensor {
  return tidy(() => {
    const out = head.parts(map);
    const objects = t.mask.sum().clamp(1, null);
    const l1 = (pred: Tensor, target: Tensor) => pred.sub(target).abs().mul(t.mask).sum().div(objects);
    return centerNetFocalLoss(out.heatmap, t.heatmap).add(l1(out.size, t.size)).add(l1(out.offset, t.offset));
  });
}

/** The rows `ids` of each target tensor. */
function pick(t: CenterNetTargets, ids: Tensor): CenterNetTargets {
  return { heatmap: t.heatmap.index([ids]), size: t.size.index([ids]), offset: t.offset.index([ids]), mask: t.mask.index([ids]) };
}

export async function trainDetector(backbone: Layer, train: DetectionSet, test: DetectionSet, o: DetectorOptions): Promise<DetectorResult> {
  const numClasses = o.numClasses ?? train.classes.length;
  const epochs = o.epochs ?? 30;
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 1e-3;
  const generator = new Generator(o.seed ?? 0);
  const dense = (x: Tensor) => denseFeatures(backbone, x);
  const imagesOf = (set: DetectionSet, ids: number[]) => applyView(set.images.batch(ids), o.view);
  // the map's geometry from one image
  backbone.eval();
  const probe = tidy(() => noGrad(() => dense(imagesOf(train, [0]))));
  const [channels, height, width] = probe.shape.slice(1);
  probe.dispose();
  const stride = train.images.width / width;
  const targets = centerNetTargets(train.boxes, { numClasses, stride, height, width });
  const head = new CenterNetHead(channels, numClasses, { generator });
  const trainMaps = o.finetune ? null : extractFeatures(backbone, train.images, { view: o.view, forward: dense }); // [N, C, h, w]
  const groups = [
    ...(o.finetune ? backbone.parameterGroups(1e-4).map((g) => ({ ...g, lrScale: o.backboneLrScale ?? 0.1 })) : []),
    ...head.parameterGroups(1e-4).map((g) => ({ ...g, lrScale: 1 })),
  ];
  const optimizer = new AdamW(groups, { lr, weightDecay: 1e-4 });
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      optimizer.setLearningRate((lr * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2);
      head.train();
      if (o.finetune) backbone.train();
      losses.push(minibatchEpoch(train.images.length, { batchSize, generator, optimizer }, (index) => {
        const map = trainMaps ? trainMaps.index([index]) : dense(imagesOf(train, Array.from(index.data() as BigInt64Array, Number)));
        return detectionLoss(head, map, pick(targets, index));
      }));
      o.onEpoch?.(epoch, losses[losses.length - 1]);
      await new Promise((resolve) => setImmediate(resolve)); // let progress output through
    }
    head.eval();
    backbone.eval();
    const predictions: Detection[][] = [];
    for (let start = 0; start < test.images.length; start += 64) {
      const ids = Array.from({ length: Math.min(64, test.images.length - start) }, (_, i) => start + i);
      predictions.push(...tidy(() => noGrad(() => decodeCenterNet(head.parts(dense(imagesOf(test, ids))), { stride }))));
    }
    const metrics = detectionMetrics(predictions, test.boxes, { numClasses });
    return { ...metrics, head, losses: [losses[0], losses[losses.length - 1]], predictions, stride };
  } finally {
    optimizer.dispose();
    trainMaps?.dispose();
    for (const t of Object.values(targets)) t.dispose();
  }
}
