/**
 * Opens a data set named on the command line or in a config: {@link openImages} as an
 * {@link ImageArray} in memory, {@link openImageSet} streamed from disk where that is what the data needs.
 * - a folder of images (labelled by sub-folder or unlabeled), a CSV of `path,label`, or a glob
 *   pattern (`photos/**\/*.jpg`, unlabeled);
 * - a photo pack made by `selfsup pack` (`photos.pack`; streamed);
 * - `cifar10:<folder>[:train|test]`, `cifar100:<folder>[:train|test]` (binary batches);
 * - `stl10:<folder>[:train|test|unlabeled]` (stl10_binary);
 * - `fashion-mnist[:train|test]` (Debian's dataset-fashion-mnist, installed by the setup step) or
 *   `fashion-mnist:<folder>[:train|test]`, and `mnist:<folder>[:train|test]` (IDX files, plain or .gz).
 *
 * ```ts
 * const train = await openImages('cifar10:data/cifar-10-batches-bin:train');
 * const small = await openImages('photos/', { size: 64, cache: 'runs/.cache' });   // decoded, squashed to 64x64
 * const photos = await openImageSet('photos/', { size: 224 });                     // StreamedImages: full-size photos
 * ```
 */
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { readCifar10, readCifar100, readIdx, readStl10 } from './binaryFormats.js';
import { globBase, globFiles, isGlob } from './globFiles.js';
import type { ImageArray } from './imageArray.js';
import { imageDecodeOptions, orientedSize, readImageFile } from './imageFile.js';
import { IMAGE_EXTENSIONS, ImageFolder, type LoadOptions } from './imageFolder.js';
import { type ImageSet, StreamedImages } from './streamedImages.js';

export const FASHION_MNIST_DEBIAN = '/usr/share/datasets/fashion-mnist';

export interface OpenOptions extends LoadOptions {
  /** the split when the spec names none (default 'train') */
  split?: 'train' | 'test' | 'unlabeled';
}

function idxPair(folder: string, split: string, spec: string): [string, string] {
  const stem = split === 'test' ? 't10k' : 'train';
  for (const ext of ['.gz', '']) {
    const images = join(folder, `${stem}-images-idx3-ubyte${ext}`);
    if (existsSync(images)) return [images, join(folder, `${stem}-labels-idx1-ubyte${ext}`)];
  }
  throw new Error(`${spec}: no ${stem}-images-idx3-ubyte[.gz] in ${folder}`);
}

const BINARY_SPEC = /^(cifar10|cifar100|stl10|fashion-mnist|mnist):(.*)$/;
const isPack = (spec: string): boolean => spec.toLowerCase().endsWith('.pack');

/** The image files a folder, CSV or glob spec lists (nothing decoded), or null for the other kinds of spec. */
export function listImages(spec: string): ImageFolder | null {
  if (BINARY_SPEC.test(spec) || spec === 'fashion-mnist' || isPack(spec)) return null;
  if (isGlob(spec) && !existsSync(spec)) {
    const files = globFiles(spec).filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()));
    if (files.length === 0) throw new Error(`${spec}: no image files (${IMAGE_EXTENSIONS.join(', ')}) match this pattern`);
    return ImageFolder.fromFiles(globBase(spec), files);
  }
  if (!existsSync(spec)) throw new Error(`${spec}: no such folder or file (expected a folder of images, a CSV of path,label, a glob pattern, a .pack, or cifar10:<dir>, cifar100:<dir>, stl10:<dir>, fashion-mnist, mnist:<dir>)`);
  return spec.toLowerCase().endsWith('.csv') ? ImageFolder.fromCsv(spec) : ImageFolder.scan(spec);
}

export interface OpenSetOptions extends OpenOptions {
  /**
   * 'auto' (default): folders, CSVs and globs stream from disk when their images differ in size or
   * are larger than `size` (256 px without a size; judged from the headers of up to 32 of them), packs always stream;
   * 'memory' decodes every image into memory at `size` (the small-image path); 'stream' always streams
   */
  storage?: 'auto' | 'memory' | 'stream';
}

/** Images with a side above this are photos when no training size is given (224 plus room for crops). */
const PHOTO_SIDE = 256;

/** Whether a listed folder's images are photos to stream: sizes that differ, or larger than `size`. */
async function looksLikePhotos(folder: ImageFolder, size: number | [number, number] | undefined): Promise<boolean> {
  const sizes: string[] = [];
  // without a size, anything larger than the photo training side is a photo (not a CIFAR/STL-sized image)
  const [h, w] = size === undefined ? [PHOTO_SIDE, PHOTO_SIDE] : typeof size === 'number' ? [size, size] : size;
  for (let i = 0; i < Math.min(32, folder.length); i++) {
    const path = folder.files[Math.floor((i * folder.length) / Math.min(32, folder.length))];
    try {
      const s = orientedSize(await sharp(await readImageFile(path), imageDecodeOptions()).metadata());
      if (s.height > h || s.width > w) return true;
      sizes.push(`${s.width}x${s.height}`);
    } catch {
      // an unreadable file says nothing about the others (it is skipped when the data is read)
    }
  }
  return new Set(sizes).size > 1;
}

/** A data set in memory or streamed from disk (see {@link OpenSetOptions.storage}). */
export async function openImageSet(spec: string, o: OpenSetOptions = {}): Promise<ImageSet> {
  const storage = o.storage ?? 'auto';
  if (isPack(spec)) {
    if (!existsSync(spec)) throw new Error(`${spec}: no such pack (make one with selfsup pack <folder> --out ${spec})`);
    const pack = StreamedImages.fromPack(spec);
    if (storage !== 'memory') return pack;
    if (o.size === undefined) throw new Error(`${spec}: a pack read into memory needs a size`);
    return pack.decode(Array.from({ length: pack.length }, (_, i) => i), typeof o.size === 'number' ? o.size : o.size[0]);
  }
  const folder = listImages(spec);
  if (folder && (storage === 'stream' || (storage === 'auto' && await looksLikePhotos(folder, o.size)))) return StreamedImages.fromFolder(folder);
  return folder ? folder.load(o) : openImages(spec, o);
}

/** A data set from its spec string (see the module comment), decoded into memory; folders are decoded with sharp. */
export async function openImages(spec: string, o: OpenOptions = {}): Promise<ImageArray> {
  const match = BINARY_SPEC.exec(spec) ?? (spec === 'fashion-mnist' ? [spec, spec, ''] : null);
  if (!match) {
    if (isPack(spec)) return openImageSet(spec, { ...o, storage: 'memory' }) as Promise<ImageArray>;
    return listImages(spec)!.load(o);
  }
  const kind = match[1];
  const parts = match[2] === '' ? [] : match[2].split(':');
  const split = ['train', 'test', 'unlabeled'].includes(parts[parts.length - 1]) ? parts.pop()! : (o.split ?? 'train');
  const rest = parts.join(':');
  const folder = rest === '' && kind === 'fashion-mnist' ? FASHION_MNIST_DEBIAN : rest;
  if (!existsSync(folder)) {
    const hint = kind === 'fashion-mnist' ? ' (Debian: apt-get install dataset-fashion-mnist; the setup step installs it)' : '';
    throw new Error(`${spec}: no such folder ${folder || '(none given)'}${hint}`);
  }
  if (split === 'unlabeled' && kind !== 'stl10') throw new Error(`${spec}: only stl10 has an unlabeled split`);
  switch (kind) {
    case 'cifar10': return readCifar10(folder, split as 'train' | 'test');
    case 'cifar100': return readCifar100(folder, split as 'train' | 'test');
    case 'stl10': return readStl10(folder, split as 'train' | 'test' | 'unlabeled');
    default: return readIdx(...idxPair(folder, split, spec));
  }
}
