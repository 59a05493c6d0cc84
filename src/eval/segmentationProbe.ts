/**
 * Linear segmentation probe (the dense counterpart of the linear probe; DINOv2's "linear" semantic
 * segmentation, Oquab et al., 2023, Sec. 7.4): a 1x1 linear head on frozen dense features (a ViT's
 * patch tokens, a ResNet's last feature map), standardised with the training set's per-channel
 * statistics, its logits upsampled bilinearly to the mask size, trained by per-pixel cross-entropy
 * (AdamW). Reported: per-class IoU = TP / (TP + FP + FN), mIoU over the classes that occur in the
 * test masks or predictions, and pixel accuracy.
 *
 * ```ts
 * const r = segmentationProbe(backbone, train, test, { view, epochs: 20 });
 * r.mIoU; r.iou;   // per class
 * ```
 */
import type { SegmentationSet } from '../data/index.js';
import { VisionTransformer } from '../models/index.js';
import { ResNet } from '../models/index.js';
import { Linear, type Layer } from '../nn/index.js';
import { AdamW, minibatchEpoch } from '../optim/index.js';
import { Generator, type Tensor, crossEntropy, interpolate, noGrad, ones, tensor, tidy, zeros } from '../tensor/index.js';
import type { ViewConfig } from '../transforms/index.js';
import { extractFeatures } from './features.js';

/** Frozen dense features [B, D, h, w] of normalised images [B, 3, H, W]. */
export function denseFeatures(backbone: Layer, x: Tensor): Tensor {
  return tidy(() => {
    if (backbone instanceof VisionTransformer) {
      const tokens = backbone.forwardTokens(x).slice(1, 1); // [B, N, D] without the cls token
      const [h, w] = [x.size(2) / backbone.patchSize, x.size(3) / backbone.patchSize];
      return tokens.permute(0, 2, 1).reshape(x.size(0), tokens.size(2), h, w);
    }
    if (backbone instanceof ResNet) return backbone.forwardMap(x);
    throw new Error('segmentation probe: the backbone must be a ViT or a ResNet');
  });
}

export interface SegmentationMetrics {
  /** IoU per class (NaN where the class occurs neither in the masks nor in the predictions) */
  iou: number[];
  mIoU: number;
  pixelAccuracy: number;
}

/** Metrics of predicted class ids against the true ones (any integer tensors of one shape). */
export function segmentationMetrics(predicted: Tensor, target: Tensor, numClasses: number): SegmentationMetrics {
  return tidy(() => {
    const [p, t] = [predicted.long().flatten(), target.long().flatten()];
    const confusion = zeros([numClasses * numClasses]).scatterAdd(0, t.mul(numClasses).add(p), ones([p.size(0)])).reshape(numClasses, numClasses); // [true, predicted]
    const tp = confusion.diagonal();
    const union = confusion.sum(0).add(confusion.sum(1)).sub(tp);
    const iou = (tp.div(union).toArray() as number[]);
    const present = iou.filter((v) => Number.isFinite(v));
    return { iou, mIoU: present.reduce((a, b) => a + b, 0) / Math.max(1, present.length), pixelAccuracy: tp.sum().item() / p.size(0) };
  });
}

export interface SegmentationProbeOptions {
  /** the evaluation view (resize + normalisation) the backbone was trained with */
  view: ViewConfig;
  numClasses?: number;
  epochs?: number;
  lr?: number;
  batchSize?: number;
  seed?: number;
}

export interface SegmentationProbeResult extends SegmentationMetrics {
  head: Linear;
  /** mean training loss of the first and the last epoch */
  losses: [number, number];
  /** predicted class ids of the test images, uint8 N x H x W */
  predictions: Uint8Array;
}

export function segmentationProbe(backbone: Layer, train: SegmentationSet, test: SegmentationSet, o: SegmentationProbeOptions): SegmentationProbeResult {
  const numClasses = o.numClasses ?? train.classes.length;
  const epochs = o.epochs ?? 20;
  const batchSize = o.batchSize ?? 64;
  const [height, width] = [test.images.height, test.images.width];
  const features = (set: SegmentationSet): Tensor => extractFeatures(backbone, set.images, { view: o.view, forward: (x) => denseFeatures(backbone, x) });
  const masksOf = (set: SegmentationSet) => tensor(set.masks, { shape: [set.images.length, set.images.height, set.images.width], dtype: 'uint8' });
  const [trainFeatures, testFeatures] = [features(train), features(test)]; // [N, D, h, w]
  const [trainMasks, testMasks] = [masksOf(train), masksOf(test)];
  const dim = trainFeatures.size(1);
  const [mean, std] = tidy(() => [trainFeatures.mean([0, 2, 3], true), trainFeatures.std([0, 2, 3], false, true).add(1e-6)]); // [1, D, 1, 1]
  const head = new Linear(dim, numClasses, { generator: new Generator(o.seed ?? 0) });
  const optimizer = new AdamW(head.parameters(), { lr: o.lr ?? 1e-3, weightDecay: 1e-4 });
  // [B, D, h, w] standardised -> per-pixel logits [B, C, H, W]
  const logitsOf = (f: Tensor, size: [number, number]) => tidy(() => {
    const z = f.sub(mean).div(std).permute(0, 2, 3, 1);                     // [B, h, w, D]
    return interpolate(head.forward(z).permute(0, 3, 1, 2).contiguous(), size, 'bilinear'); // [B, C, H, W]
  });
  const generator = new Generator(o.seed ?? 0);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      losses.push(minibatchEpoch(trainFeatures.size(0), { batchSize, generator, optimizer }, (ids) =>
        crossEntropy(logitsOf(trainFeatures.index([ids]), [train.images.height, train.images.width]), trainMasks.index([ids]).long())));
    }
    const predicted = tidy(() => noGrad(() => logitsOf(testFeatures, [height, width]).argmax(1).to('uint8')));
    const metrics = segmentationMetrics(predicted, testMasks, numClasses);
    const predictions = tidy(() => predicted.contiguous().toBytes());
    predicted.dispose();
    // fold the standardisation into the head: W' = W / std, b' = b - W' mean
    tidy(() => {
      const w = head.weight.div(std.view(1, dim));
      head.bias!.requiresGrad_(false).copy_(head.bias!.sub(w.matmul(mean.view(dim))));
      head.weight.requiresGrad_(false).copy_(w);
    });
    return { ...metrics, head, losses: [losses[0], losses[losses.length - 1]], predictions };
  } finally {
    optimizer.dispose();
    for (const t of [trainFeatures, testFeatures, trainMasks, testMasks, mean, std]) t.dispose();
  }
}
