/**
 * A model's outputs on a whole data set (frozen features of a backbone, or a classifier's class
 * scores): eval mode, no gradients, the evaluation view (resize + centre crop + normalize), in
 * batches. The model's train/eval mode is restored. With `precision: 'bf16'` the forward runs under
 * bfloat16 autocast (about 1.7x faster on a CPU with native bfloat16) and the features come back in
 * float32, as a PyTorch evaluation loop under `torch.autocast` gives them.
 *
 * ```ts
 * const feats = extractFeatures(backbone, testImages, { size: 32, normalize: CIFAR });  // float [N, 512]
 * ```
 */
import type { ImageArray } from '../data/index.js';
import { gatherImages } from '../data/index.js';
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
