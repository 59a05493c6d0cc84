/**
 * A data set held in memory as one uint8 array of images in NCHW order (planar
 * channels, as CIFAR stores them and as the engine wants them) with optional labels.
 * The binary readers (CIFAR, STL-10, IDX) return it.
 *
 * ```ts
 * const train = readCifar10('data/cifar-10-batches-bin', 'train');
 * train.length;                         // 50000
 * const x = train.batch([0, 1, 2]);     // uint8 [3, 3, 32, 32]
 * ```
 */
import { createHash } from 'node:crypto';
import { type Tensor, tensor } from '../tensor/index.js';

export class ImageArray {
  readonly length: number;

  constructor(
    /** N x C x H x W bytes */
    readonly pixels: Uint8Array,
    readonly channels: number,
    readonly height: number,
    readonly width: number,
    /** one label per image, or null for unlabeled data */
    readonly labels: Int32Array | null,
    readonly classes: string[] = [],
    /** where each image came from (file paths for image folders), when known */
    readonly sources: string[] | null = null,
  ) {
    const size = channels * height * width;
    if (size === 0 || pixels.length % size !== 0) {
      throw new Error(`ImageArray: ${pixels.length} bytes are not a whole number of ${channels}x${height}x${width} images`);
    }
    this.length = pixels.length / size;
    if (labels !== null && labels.length !== this.length) {
      throw new Error(`ImageArray: ${labels.length} labels for ${this.length} images`);
    }
    if (sources !== null && sources.length !== this.length) {
      throw new Error(`ImageArray: ${sources.length} sources for ${this.length} images`);
    }
  }

  /** The bytes of image `i` (C x H x W, a view, no copy). */
  image(i: number): Uint8Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`image ${i} out of range [0, ${this.length})`);
    const size = this.channels * this.height * this.width;
    return this.pixels.subarray(i * size, (i + 1) * size);
  }

  /** uint8 [B, C, H, W] of the given images (one copy). */
  batch(indices: number[]): Tensor {
    return tensor(this.gatherPixels(indices), { shape: [indices.length, this.channels, this.height, this.width] });
  }

  /** The bytes of the given images, one after another. */
  private gatherPixels(indices: number[]): Uint8Array {
    const size = this.channels * this.height * this.width;
    const out = new Uint8Array(indices.length * size);
    indices.forEach((i, k) => out.set(this.image(i), k * size));
    return out;
  }

  /** Indices of up to `count` images spread evenly over the data set (for samples, previews, statistics). */
  spread(count: number): number[] {
    const n = Math.min(count, this.length);
    return Array.from({ length: n }, (_, i) => Math.floor((i * this.length) / n));
  }

  /** A copy holding the given images (with their labels and sources), in that order. */
  subset(indices: number[]): ImageArray {
    const pixels = this.gatherPixels(indices);
    const labels = this.labels ? Int32Array.from(indices, (i) => this.labels![i]) : null;
    const sources = this.sources ? indices.map((i) => this.sources![i]) : null;
    return new ImageArray(pixels, this.channels, this.height, this.width, labels, this.classes, sources);
  }

  /** The same images under other labels and class names (see classAlignment.ts). */
  withLabels(labels: Int32Array | null, classes: string[]): ImageArray {
    return new ImageArray(this.pixels, this.channels, this.height, this.width, labels, classes, this.sources);
  }

  /** int64 [N] labels of every image, in order. */
  allLabels(): Tensor {
    return this.batchLabels(Array.from({ length: this.length }, (_, i) => i));
  }

  /** int64 [B] labels of the given images. */
  batchLabels(indices: ArrayLike<number>): Tensor {
    if (this.labels === null) throw new Error('batchLabels: this data set has no labels');
    const labels = this.labels;
    return tensor(Float64Array.from(indices, (i) => labels[i]), { dtype: 'int64' });
  }

  /**
   * A short hash that tells data sets apart (a resumed run checks it is on the same images): the
   * count, the image shape, the labels and the pixels of 64 images spread over the set.
   */
  fingerprint(): string {
    const hash = createHash('sha1');
    hash.update(JSON.stringify([this.length, this.channels, this.height, this.width, this.classes]));
    if (this.labels) hash.update(new Uint8Array(this.labels.buffer, this.labels.byteOffset, this.labels.byteLength));
    for (const i of this.spread(64)) hash.update(this.image(i));
    return hash.digest('hex').slice(0, 16);
  }
}
