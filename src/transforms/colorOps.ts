/**
 * Simple photometric and geometric augmentations on batches [B, C, H, W] of float images
 * in [0, 1], with torchvision's formulas:
 * - normalize: (x - mean) / std per channel (ImageNet or per-data-set statistics);
 * - horizontalFlip, randomHorizontalFlip(p);
 * - grayscale: L = 0.2989 R + 0.587 G + 0.114 B (ITU-R 601-2 luma, as torchvision's
 *   rgb_to_grayscale), repeated to 3 channels; randomGrayscale(p), SimCLR's p = 0.2;
 * - solarize: x >= threshold ? 1 - x : x; randomSolarize (BYOL's second view, p = 0.2).
 *
 * ```ts
 * const v = randomGrayscale(randomHorizontalFlip(batch, 0.5, gen), 0.2, gen);
 * const input = normalize(v, CIFAR10_MEAN, CIFAR10_STD);
 * ```
 */
import { type Generator, type Tensor, tensor, tidy, where } from '../tensor/index.js';
import { applyRandomly } from './applyRandomly.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];

function checkBatch(name: string, x: Tensor, channels?: number): void {
  if (x.ndim !== 4 || (channels !== undefined && x.size(1) !== channels)) {
    throw new Error(`${name}: expected images [B, ${channels ?? 'C'}, H, W], got [${x.shape.join(', ')}]`);
  }
}

export function normalize(x: Tensor, mean: number[], std: number[]): Tensor {
  checkBatch('normalize', x, mean.length);
  if (std.length !== mean.length || std.some((s) => !(s > 0))) throw new Error('normalize: std must have one positive value per channel');
  return tidy(() => {
    const shape = [1, mean.length, 1, 1];
    return x.sub(tensor(mean, { shape, dtype: x.dtype })).div(tensor(std, { shape, dtype: x.dtype }));
  });
}

/** The inverse of `normalize`: x * std + mean per channel (back to [0, 1] pixels). */
export function denormalize(x: Tensor, mean: number[], std: number[]): Tensor {
  checkBatch('denormalize', x, mean.length);
  return tidy(() => {
    const shape = [1, mean.length, 1, 1];
    return x.mul(tensor(std, { shape, dtype: x.dtype })).add(tensor(mean, { shape, dtype: x.dtype }));
  });
}

export function horizontalFlip(x: Tensor): Tensor {
  checkBatch('horizontalFlip', x);
  return x.flip(3);
}
export function randomHorizontalFlip(x: Tensor, p = 0.5, generator?: Generator): Tensor {
  return applyRandomly(x, p, horizontalFlip, generator);
}

export function grayscale(x: Tensor): Tensor {
  checkBatch('grayscale', x, 3);
  return tidy(() => {
    const weights = tensor([0.2989, 0.587, 0.114], { shape: [1, 3, 1, 1], dtype: x.dtype });
    return x.mul(weights).sum(1, true).expand(x.size(0), 3, x.size(2), x.size(3)).contiguous();
  });
}
export function randomGrayscale(x: Tensor, p = 0.2, generator?: Generator): Tensor {
  return applyRandomly(x, p, grayscale, generator);
}

export function solarize(x: Tensor, threshold = 0.5): Tensor {
  checkBatch('solarize', x);
  return tidy(() => where(x.ge(threshold), x.rsub(1), x));
}
export function randomSolarize(x: Tensor, p = 0.2, threshold = 0.5, generator?: Generator): Tensor {
  return applyRandomly(x, p, (t) => solarize(t, threshold), generator);
}
