/**
 * One training batch made from photos at their own resolution (streamed from files or a pack):
 * every view's box is drawn on the photo's own width and height (torchvision's RandomResizedCrop
 * get_params, or the evaluation's centre box), the photo is decoded once for all its views at
 * the smallest JPEG/WebP shrink-on-load scale that still gives every box at least its output
 * side, each box is cut and resized in the engine (antialiased, as torchvision on tensors), then
 * the rest of each view (colour, blur, ...) runs batched on the tensors as for in-memory images.
 *
 * - A photo that cannot be read or decoded is skipped, named and counted, and its place in the
 *   batch taken by the next readable photo of the set: batches keep their size, so contrastive
 *   losses and data-parallel ranks see the shapes they expect.
 * - Determinism: each photo's boxes and flips come from its own stream seeded by (batch seed,
 *   place in the batch); the batched stages use the batch's generator. Timing never matters.
 * - At most `concurrency` photos are decoded at once, so a batch of 4000-px photos does not hold
 *   them all decoded.
 *
 * ```ts
 * const store = new FilePhotoStore(files);
 * const { views, skipped } = await makePhotoViewBatch(store, indices, methodViews('simclr', { size: 224 }), seed);
 * ```
 */
import sharp from 'sharp';
import { Generator, type MemoryFormat, type Tensor, cat, fromBytes, keep, resizedCrops, tensor, tidy, zeros } from '../tensor/index.js';
import { type ViewConfig, type ViewSet, applyAppearance, cropFlipProbability, masksFor, seededUniform, viewBox } from '../transforms/index.js';
import { MAX_IMAGE_PIXELS, imageDecodeOptions, orientedSize } from './imageFile.js';
import { mixSeed } from './sampler.js';
import type { ViewBatch } from './viewBatch.js';

/** A photo as stored: its encoded file (JPEG, PNG, ...) or raw 8-bit RGB pixels (height x width x 3). */
export type StoredPhoto = { encoded: Uint8Array } | { pixels: Uint8Array; height: number; width: number };

/** Where photos are read from, by position in the set. */
export interface PhotoStore {
  readonly length: number;
  read(index: number): Promise<StoredPhoto>;
  /** what to call photo `index` in a message (its path) */
  name(index: number): string;
}

export interface SkippedPhoto {
  index: number;
  name: string;
  reason: string;
}

export interface PhotoViewBatch extends ViewBatch {
  /** the photos that failed while making this batch (each replaced by the next readable one) */
  skipped: SkippedPhoto[];
  /** the photos used, in batch order (a skipped photo's substitute in its place) */
  used: Int32Array;
}

export interface PhotoBatchOptions {
  memoryFormat?: MemoryFormat;
  /** photos decoded at once (default 4) */
  concurrency?: number;
  /** photos known to fail (skipped without reading them again); grows with this batch's failures */
  knownBad?: Set<number>;
  /** how many photos in a row may fail before the batch fails (default 100) */
  maxFailures?: number;
  /** a photo that fails: 'replace' it by the next readable one (training, default) or 'drop' it (evaluation: the batch is smaller, even empty) */
  unreadable?: 'replace' | 'drop';
}

/** A photo opened: its oriented size, and decoding at 1/factor of it. */
interface OpenedPhoto {
  height: number;
  width: number;
  /** whether the format decodes at 1/2, 1/4, 1/8 for less than the whole work (JPEG, WebP) */
  shrinkable: boolean;
  decode(factor: number): Promise<{ pixels: Uint8Array; height: number; width: number }>;
}

/** Reads the header of a stored photo (never its pixels): refuses decompression bombs before decoding. */
export async function openPhoto(stored: StoredPhoto): Promise<OpenedPhoto> {
  if ('pixels' in stored) {
    const { pixels, height, width } = stored;
    return { height, width, shrinkable: false, decode: async () => ({ pixels, height, width }) };
  }
  const bytes = stored.encoded;
  const meta = await sharp(bytes, imageDecodeOptions()).metadata();
  const { width, height } = orientedSize(meta);
  if (width * height > MAX_IMAGE_PIXELS) throw new Error(`${width}x${height} is more than ${MAX_IMAGE_PIXELS} pixels (a decompression bomb?); not decoded`);
  return {
    height,
    width,
    shrinkable: meta.format === 'jpeg' || meta.format === 'webp',
    decode: async (factor) => {
      let pipeline = sharp(bytes, imageDecodeOptions()).rotate();
      // An exact 1/factor resize lets libvips decode at that scale (shrink-on-load), nothing more.
      if (factor > 1) pipeline = pipeline.resize(Math.ceil(width / factor), Math.ceil(height / factor), { fit: 'fill', fastShrinkOnLoad: true });
      const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
      return { pixels: data, height: info.height, width: info.width };
    },
  };
}

/** The largest of 8, 4, 2, 1 that leaves every box at least its view's side in both directions. */
export function shrinkFactor(boxes: readonly (readonly number[])[], sides: readonly number[], shrinkable: boolean): number {
  if (!shrinkable) return 1;
  let factor = 8;
  while (factor > 1 && boxes.some((b, i) => Math.min(b[2], b[3]) / factor < sides[i])) factor /= 2;
  return factor;
}

/** A box [top, left, height, width] of the original photo, in the coordinates of its decoded copy. */
function scaleBox(box: readonly number[], from: { height: number; width: number }, to: { height: number; width: number }): number[] {
  const sy = to.height / from.height;
  const sx = to.width / from.width;
  const top = Math.min(to.height - 1, Math.floor(box[0] * sy));
  const left = Math.min(to.width - 1, Math.floor(box[1] * sx));
  return [top, left, Math.max(1, Math.min(to.height - top, Math.round(box[2] * sy))), Math.max(1, Math.min(to.width - left, Math.round(box[3] * sx)))];
}

/**
 * The views of one photo: float [1, 3, s, s] per view, on the 0..255 scale. Views that share a size
 * and an interpolation are cut in one call.
 */
async function cropPhoto(opened: OpenedPhoto, views: readonly ViewConfig[], uniform: () => number): Promise<Tensor[]> {
  const boxes = views.map((v) => viewBox(v, opened.height, opened.width, uniform));
  const flips = views.map((v) => uniform() < cropFlipProbability(v));
  const decoded = await opened.decode(shrinkFactor(boxes, views.map((v) => v.size), opened.shrinkable));
  return tidy(() => {
    const image = fromBytes(decoded.pixels, [decoded.height, decoded.width, 3], 'uint8').permute(2, 0, 1).unsqueeze(0).contiguous(); // [1, 3, h, w]
    const out: Tensor[] = new Array(views.length);
    const groups = new Map<string, number[]>();
    views.forEach((v, i) => {
      const key = `${v.size}/${v.interpolation ?? 'bilinear'}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const members of groups.values()) {
      const v = views[members[0]];
      const scaled = members.map((i) => scaleBox(boxes[i], opened, decoded));
      const crops = resizedCrops(
        image.expand(members.length, 3, decoded.height, decoded.width),
        tensor(Float64Array.from(scaled.flat()), { shape: [members.length, 4], dtype: 'int64' }), v.size, v.interpolation ?? 'bilinear', true,
        tensor(members.map((i) => (flips[i] ? 1 : 0)), { dtype: 'bool' }),
      ); // [n, 3, s, s], boxes [n, 4]
      members.forEach((i, k) => { out[i] = crops.narrow(0, k, 1); });
    }
    return out;
  });
}

/**
 * Cuts every view of the photos at `indices` (see the module comment): float32 [B, 3, s, s] per view,
 * laid out in `memoryFormat`, and the masks of the view set.
 */
export async function makePhotoViewBatch(store: PhotoStore, indices: ArrayLike<number>, set: ViewSet, seed: number, o: PhotoBatchOptions = {}): Promise<PhotoViewBatch> {
  const count = indices.length;
  const knownBad = o.knownBad ?? new Set<number>();
  const maxFailures = o.maxFailures ?? 100;
  const skipped: SkippedPhoto[] = [];
  const used = new Int32Array(count);
  const perPhoto: Tensor[][] = new Array(count);
  let failed = false;
  const makeOne = async (k: number): Promise<void> => {
    let index = indices[k];
    // photos known to be bad are passed over without a read; only new failures count towards the limit
    for (let tries = 0, failures = 0; tries < store.length; tries++, index = (index + 1) % store.length) {
      if (failed) return;
      if (knownBad.has(index)) {
        if (o.unreadable === 'drop') return;
        continue;
      }
      try {
        const opened = await openPhoto(await store.read(index));
        const views = (await cropPhoto(opened, set.views, seededUniform(mixSeed(seed, k)))).map((t) => keep(t));
        if (failed) { for (const t of views) t.dispose(); return; }
        perPhoto[k] = views;
        used[k] = index;
        return;
      } catch (error) {
        knownBad.add(index);
        skipped.push({ index, name: store.name(index), reason: (error as Error).message.split('\n')[0] });
        if (o.unreadable === 'drop') return;
        if (++failures > maxFailures) throw new Error(`${maxFailures} photos in a row could not be read, from ${store.name(indices[k])} on (is the data still there?)`);
      }
    }
    throw new Error(`none of the ${store.length} photos could be read (the first failures: ${skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ')})`);
  };
  try {
    const concurrency = Math.max(1, o.concurrency ?? 4);
    let next = 0;
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, async () => {
      try {
        while (next < count && !failed) await makeOne(next++);
      } catch (error) {
        failed = true;
        throw error;
      }
    }));
    const failure = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failure) throw failure.reason;
    const kept = [...perPhoto.keys()].filter((k) => perPhoto[k] !== undefined);
    if (kept.length === 0) {
      // evaluation, every photo of the batch unreadable: an empty batch for the caller to pass over
      return { views: set.views.map((v) => zeros([0, 3, v.size, v.size])), mask: null, skipped, used: new Int32Array(0) };
    }
    const batch = tidy(() => {
      const generator = new Generator(seed);
      const views = set.views.map((v, j) => {
        const cropped = cat(kept.map((k) => perPhoto[k][j]), 0).div(255); // [B, 3, s, s] in [0, 1]
        const x = applyAppearance(v.interpolation === 'bicubic' ? cropped.clamp(0, 1) : cropped, v, generator);
        return x.contiguous(o.memoryFormat ?? 'contiguous');
      });
      const mask = set.mask ? masksFor(set.mask, kept.length, set.views[0].size, generator) : null;
      return { views, mask };
    });
    return { ...batch, skipped, used: kept.length === count ? used : Int32Array.from(kept, (k) => used[k]) };
  } finally {
    for (const p of perPhoto) for (const t of p ?? []) t.dispose();
  }
}
