/**
 * A model's outputs on a whole data set (frozen features of a backbone, or a classifier's class
 * scores): eval mode, no gradients, the evaluation view (resize + centre crop + normalize), in
 * batches. The model's train/eval mode is restored. With `precision: 'bf16'` the forward runs under
 * bfloat16 autocast (about 1.7x faster on a CPU with native bfloat16) and the features come back in
 * float32, as a PyTorch evaluation loop under `torch.autocast` gives them.
 *
 * Streamed photos ({@link extractSetFeatures}) are decoded batch by batch by the loader's workers,
 * each at its own resolution; the set is never held in memory, and unreadable photos are left out.
 *
 * ```ts
 * const feats = extractFeatures(backbone, testImages, { size: 32, normalize: CIFAR });  // float [N, 512]
 * const { features, indices } = await extractSetFeatures(backbone, photos, { view });    // any ImageSet
 * ```
 */
import { DataLoader, type ImageArray, type ImageSet, StreamedImages, gatherImages } from '../data/index.js';
import type { Layer } from '../nn/index.js';
import { type Tensor, autocast, cat, keep, noGrad, tidy } from '../tensor/index.js';
import { type ViewConfig, applyView } from '../transforms/index.js';

export interface FeatureOptions {
  /** the evaluation view: default the images' own size, no crop, no normalisation */
  view?: ViewConfig;
  batchSize?: number;
  /** what to compute of each batch (default `backbone.forward`; e.g. dense feature maps) */
  forward?: (x: Tensor) => Tensor;
  /** 'fp32' (default) or 'bf16' (autocast; float32 features), e.g. a run's resolved precision */
  precision?: 'fp32' | 'bf16';
}

export function extractFeatures(backbone: Layer, images: ImageArray, o: FeatureOptions = {}): Tensor {
  const view: ViewConfig = o.view ?? { size: images.height, crop: 'resize' };
  const batchSize = o.batchSize ?? 256;
  const plain = o.forward ?? ((x: Tensor) => backbone.forward(x));
  const forward = o.precision === 'bf16' ? (x: Tensor) => autocast(() => plain(x)).float() : plain;
  const wasTraining = backbone.training;
  backbone.eval();
  try {
    const parts: Tensor[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, images.length - start) }, (_, i) => start + i);
      parts.push(keep(noGrad(() => tidy(() => forward(applyView(gatherImages(images, indices), view))))));
    }
    return tidy(() => {
      const all = cat(parts, 0);
      for (const p of parts) p.dispose();
      return all;
    });
  } finally {
    backbone.train(wasTraining);
  }
}

/**
 * Features of any data set: in memory as {@link extractFeatures}; streamed photos through a loader
 * (in order, no shuffling, unreadable photos dropped and reported). `indices` are the rows' images
 * (every image in order, but for dropped photos): take labels and names from them.
 */
export async function extractSetFeatures(backbone: Layer, images: ImageSet, o: FeatureOptions & { workers?: number } = {}): Promise<{ features: Tensor; indices: Int32Array }> {
  if (!(images instanceof StreamedImages)) {
    return { features: extractFeatures(backbone, images, o), indices: Int32Array.from({ length: images.length }, (_, i) => i) };
  }
  if (!o.view) throw new Error('extractSetFeatures: streamed photos need the evaluation view (their sizes differ)');
  if (o.view.crop !== 'center' && o.view.crop !== 'resize') throw new Error("extractSetFeatures: the evaluation view's crop must be 'center' or 'resize' (no randomness)");
  const plain = o.forward ?? ((x: Tensor) => backbone.forward(x));
  const forward = o.precision === 'bf16' ? (x: Tensor) => autocast(() => plain(x)).float() : plain;
  const loader = new DataLoader(images, { batchSize: o.batchSize ?? 256, views: { views: [o.view] }, shuffle: false, dropLast: false, workers: o.workers, unreadable: 'drop', seed: 0 });
  const wasTraining = backbone.training;
  backbone.eval();
  const parts: Tensor[] = [];
  const indices: number[] = [];
  try {
    for await (const batch of loader.epoch()) {
      if (batch.views[0].size(0) > 0) parts.push(keep(noGrad(() => tidy(() => forward(batch.views[0])))));
      indices.push(...batch.indices);
      batch.views[0].dispose();
      batch.labels?.dispose();
    }
    if (parts.length === 0) throw new Error(`none of the ${images.length} photos of ${images.origin} could be read`);
    return { features: tidy(() => cat(parts, 0)), indices: Int32Array.from(indices) };
  } finally {
    for (const p of parts) p.dispose();
    backbone.train(wasTraining);
    await loader.close();
  }
}
