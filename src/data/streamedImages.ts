/**
 * A data set of photos read from disk as they are needed: the list of files (a folder, a CSV, a
 * glob pattern) or a packed store, with labels where there are any, in memory; the pixels never
 * held for the whole set. The loader's workers decode each photo at its own resolution for every
 * batch (see photoViews.ts); this object only says where the photos are.
 *
 * ```ts
 * const photos = StreamedImages.fromFolder(ImageFolder.scan('photos'));   // or StreamedImages.fromPack('photos.pack')
 * const loader = new DataLoader(photos, { batchSize: 64, views: methodViews('simclr', { size: 224 }) });
 * ```
 */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { type Tensor, tensor, tidy } from '../tensor/index.js';
import { ImageArray } from './imageArray.js';
import type { ImageFolder } from './imageFolder.js';
import { readImageFile } from './imageFile.js';
import { PackPhotoStore } from './photoPack.js';
import { type PhotoStore, type StoredPhoto, makePhotoViewBatch } from './photoViews.js';

/** Where the photos are, in a form a worker thread can receive and open. */
export type PhotoStoreSpec = { kind: 'files'; files: string[] } | { kind: 'pack'; path: string; select?: number[] };

/** Photos as files on disk, read whole when needed (regular files only, bounded size: see imageFile.ts). */
export class FilePhotoStore implements PhotoStore {
  readonly length: number;
  constructor(readonly files: readonly string[]) {
    this.length = files.length;
  }
  async read(i: number): Promise<StoredPhoto> {
    return { encoded: await readImageFile(this.files[i]) };
  }
  name(i: number): string {
    return relative(process.cwd(), this.files[i]) || this.files[i];
  }
}

/** The store a spec names, opened in this thread. */
export function openPhotoStore(spec: PhotoStoreSpec): PhotoStore {
  return spec.kind === 'files' ? new FilePhotoStore(spec.files) : new PackPhotoStore(spec.path, spec.select);
}

export class StreamedImages {
  readonly length: number;

  private constructor(
    readonly store: PhotoStoreSpec,
    /** one label per photo, or null for unlabeled data */
    readonly labels: Int32Array | null,
    readonly classes: string[],
    /** where each photo came from (paths), in order */
    readonly sources: string[],
    /** what to call the set in messages (the folder, CSV, pattern or pack) */
    readonly origin: string,
  ) {
    this.length = sources.length;
  }

  /** The photos an {@link ImageFolder} (folder, CSV, glob) listed; nothing is read yet. */
  static fromFolder(folder: ImageFolder): StreamedImages {
    return new StreamedImages({ kind: 'files', files: folder.files }, folder.labels, folder.classes, folder.files, folder.root);
  }

  /** The photos of a pack made by `selfsup pack` (see photoPack.ts). */
  static fromPack(path: string): StreamedImages {
    const pack = new PackPhotoStore(path);
    return new StreamedImages({ kind: 'pack', path }, pack.labels(), pack.footer.classes, pack.allNames(), path);
  }

  /** A short hash that tells data sets apart (a resumed run checks it): the count, classes, labels and names. */
  fingerprint(): string {
    const hash = createHash('sha1');
    hash.update(JSON.stringify([this.length, this.classes, this.store.kind]));
    if (this.labels) hash.update(new Uint8Array(this.labels.buffer, this.labels.byteOffset, this.labels.byteLength));
    for (const s of this.sources) hash.update(`${s}\n`);
    return hash.digest('hex').slice(0, 16);
  }

  /** A set of the given photos (with their labels and sources), in that order. */
  subset(indices: number[]): StreamedImages {
    const from = this.store;
    const store: PhotoStoreSpec = from.kind === 'files'
      ? { kind: 'files', files: indices.map((i) => from.files[i]) }
      : { ...from, select: indices.map((i) => from.select?.[i] ?? i) };
    const labels = this.labels ? Int32Array.from(indices, (i) => this.labels![i]) : null;
    return new StreamedImages(store, labels, this.classes, indices.map((i) => this.sources[i]), this.origin);
  }

  /** The same photos under other labels and class names (see classAlignment.ts). */
  withLabels(labels: Int32Array | null, classes: string[]): StreamedImages {
    return new StreamedImages(this.store, labels, classes, this.sources, this.origin);
  }

  /** int64 [N] labels of every photo, in order. */
  allLabels(): Tensor {
    return this.batchLabels(Array.from({ length: this.length }, (_, i) => i));
  }

  /** int64 [B] labels of the given photos. */
  batchLabels(indices: ArrayLike<number>): Tensor {
    if (this.labels === null) throw new Error(`${this.origin}: these photos have no labels`);
    const labels = this.labels;
    return tensor(Float64Array.from(indices, (i) => labels[i]), { dtype: 'int64' });
  }

  /** Indices of up to `count` photos spread evenly over the set. */
  spread(count: number): number[] {
    const n = Math.min(count, this.length);
    return Array.from({ length: n }, (_, i) => Math.floor((i * this.length) / n));
  }

  /**
   * The given photos decoded into memory at size x size, each its centre square (the evaluation's
   * geometry without a border), for what needs pixels at hand: channel statistics, previews, kNN
   * banks of a few thousand photos. Photos that fail are replaced by the next readable ones.
   */
  async decode(indices: number[], size: number): Promise<ImageArray> {
    const store = openPhotoStore(this.store);
    const set = { views: [{ size, crop: 'center' as const }] };
    const parts: Uint8Array[] = [];
    const used: number[] = [];
    for (let start = 0; start < indices.length; start += 64) {
      const batch = await makePhotoViewBatch(store, indices.slice(start, start + 64), set, 0);
      parts.push(tidy(() => new Uint8Array(batch.views[0].mul(255).round().clamp(0, 255).to('uint8').toBytes())));
      batch.views[0].dispose();
      used.push(...batch.used);
    }
    const pixels = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => { pixels.set(p, offset); return offset + p.length; }, 0);
    const labels = this.labels ? Int32Array.from(used, (i) => this.labels![i]) : null;
    return new ImageArray(pixels, 3, size, size, labels, this.classes, used.map((i) => this.sources[i]));
  }
}

/** A data set in memory (CIFAR, MNIST, small images) or streamed from disk (photos). */
export type ImageSet = ImageArray | StreamedImages;
