/**
 * A folder of images (JPEG, PNG, WebP, TIFF, GIF), labelled by sub-folder
 * (`root/<class>/.../*.jpg`, classes sorted by name as torchvision's ImageFolder) or
 * unlabeled (every image below root), or listed in a CSV of `path,label`. Decoded with
 * sharp (libvips) to 8-bit RGB whatever the source: grayscale, RGBA, CMYK, 16-bit.
 * A file that cannot be decoded is skipped with one warning line naming it and counted;
 * a missing root, a folder without images or a class folder without images is an error
 * before any decoding. `load({ cache })` keeps the decoded images in one memory-mapped uint8
 * file, so epochs and runs after the first do not decode again.
 *
 * ```ts
 * const folder = ImageFolder.scan('data/train');            // labelled by sub-folder
 * const images = await folder.load({ size: 32 });            // ImageArray, NCHW uint8
 * console.log(folder.skipped);                               // [{ path, reason }]
 * ```
 */
import { createHash } from 'node:crypto';
import { type Dirent, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { atomicWriteFile } from '../io/atomicWrite.js';
import { parseCsv } from '../io/csv.js';
import { mapFile, tensor, tidy } from '../tensor/index.js';
import { ImageArray } from './imageArray.js';
import { imageDecodeOptions, orientedSize, readImageFile } from './imageFile.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif'];

export interface ScanOptions {
  /** 'auto' (default): labelled when root holds class sub-folders and no images of its own */
  labels?: 'auto' | 'subfolders' | 'none';
  extensions?: string[];
}

export interface LoadOptions {
  /** resize every image to size x size (or [h, w]); required when images differ in size */
  size?: number | [number, number];
  /** images decoded at once (libvips also uses its own threads) */
  concurrency?: number;
  /** where warnings go (default: stderr) */
  warn?: (line: string) => void;
  /**
   * a folder for the decoded-image cache: the first load writes every decoded image to one
   * uint8 file there, later loads memory-map it instead of decoding (invalidated when any
   * file's size or time, the file list or the size option changes)
   */
  cache?: string;
}

/** Whether a directory entry is a folder, following symbolic links (a dangling link is not). */
function isFolder(parent: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  return e.isSymbolicLink() && (statSync(join(parent, e.name), { throwIfNoEntry: false })?.isDirectory() ?? false);
}

function imagesBelow(dir: string, extensions: string[], seen: Set<string>): string[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return [];
  }
  if (seen.has(real)) return []; // a symlink loop or a folder reached twice
  seen.add(real);
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // unreadable folder: nothing to list
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, e.name);
    if (isFolder(dir, e)) out.push(...imagesBelow(path, extensions, seen));
    // (a dangling link with an image's name is listed: load() skips it, named and counted)
    else if (extensions.includes(extname(e.name).toLowerCase())) out.push(path);
  }
  return out;
}

export class ImageFolder {
  /** files that could not be decoded by the last load(), with the reason */
  skipped: { path: string; reason: string }[] = [];
  /** where the last load() got its pixels */
  source: 'decoded' | 'cache' | null = null;

  private constructor(
    readonly root: string,
    readonly files: string[],
    readonly labels: Int32Array | null,
    readonly classes: string[],
  ) {}

  get length(): number {
    return this.files.length;
  }

  /** Lists the images under `root` (no decoding yet). */
  static scan(root: string, o: ScanOptions = {}): ImageFolder {
    if (!existsSync(root)) throw new Error(`${root}: no such folder`);
    if (!statSync(root).isDirectory()) throw new Error(`${root}: not a folder (expected a folder of images or of class folders)`);
    const extensions = o.extensions ?? IMAGE_EXTENSIONS;
    const entries = readdirSync(root, { withFileTypes: true });
    const subfolders = entries.filter((e) => isFolder(root, e)).map((e) => e.name).sort();
    const ownImages = entries.some((e) => e.isFile() && extensions.includes(extname(e.name).toLowerCase()));
    const labelled = o.labels === 'subfolders' || (o.labels !== 'none' && subfolders.length > 0 && !ownImages);
    if (!labelled) {
      const files = imagesBelow(root, extensions, new Set());
      if (files.length === 0) throw new Error(`${root}: no images (${extensions.join(', ')}) in this folder or below`);
      return new ImageFolder(root, files, null, []);
    }
    const files: string[] = [];
    const labels: number[] = [];
    const seen = new Set<string>();
    subfolders.forEach((name, label) => {
      const found = imagesBelow(join(root, name), extensions, seen);
      if (found.length === 0) throw new Error(`${join(root, name)}: class folder '${name}' has no images`);
      files.push(...found);
      for (let i = 0; i < found.length; i++) labels.push(label);
    });
    if (files.length === 0) throw new Error(`${root}: no class folders with images`);
    return new ImageFolder(root, files, Int32Array.from(labels), subfolders);
  }

  /** The given image files below `root` (e.g. a glob pattern's matches), unlabeled. */
  static fromFiles(root: string, files: string[]): ImageFolder {
    if (files.length === 0) throw new Error(`${root}: no image files given`);
    return new ImageFolder(root, files, null, []);
  }

  /**
   * Lists the images of a CSV file of `path,label` rows (RFC 4180: quoted paths may hold commas and
   * quotes; an unquoted path with commas is read up to its last comma); paths relative to the CSV;
   * a header row `path,...` is skipped.
   */
  static fromCsv(csvPath: string): ImageFolder {
    if (!existsSync(csvPath)) throw new Error(`${csvPath}: no such file`);
    const base = dirname(resolve(csvPath));
    let rows: string[][];
    try {
      rows = parseCsv(readFileSync(csvPath, 'utf8'));
    } catch (error) {
      throw new Error(`${csvPath}: ${(error as Error).message}`);
    }
    if (rows.length > 0 && rows[0][0].trim().toLowerCase() === 'path') rows.shift();
    if (rows.length === 0) throw new Error(`${csvPath}: no rows (expected lines of path,label)`);
    const pairs = rows.map((r, i) => {
      if (r.length < 2 || r[0].trim() === '') throw new Error(`${csvPath}: row ${i + 1} '${r.join(',')}' is not path,label`);
      return { path: r.slice(0, -1).join(',').trim(), label: r[r.length - 1].trim() };
    });
    const names = [...new Set(pairs.map((p) => p.label))].sort();
    const files = pairs.map((p) => (isAbsolute(p.path) ? p.path : join(base, p.path)));
    const labels = Int32Array.from(pairs, (p) => names.indexOf(p.label));
    return new ImageFolder(base, files, labels, names);
  }

  /**
   * Decodes every image into an {@link ImageArray} (for small images such as CIFAR's),
   * skipping and reporting files that fail. Images must share a size unless `size` is given.
   */
  async load(o: LoadOptions = {}): Promise<ImageArray> {
    const target = o.size === undefined ? undefined : typeof o.size === 'number' ? [o.size, o.size] : o.size;
    const cache = o.cache === undefined ? null : this.cachePaths(o.cache, target);
    const cached = cache && this.readCache(cache);
    if (cached) {
      this.source = 'cache';
      return cached;
    }
    const images = await this.decodeAll(target, o);
    this.source = 'decoded';
    if (cache) {
      mkdirSync(o.cache!, { recursive: true });
      atomicWriteFile(cache.pixels, [images.pixels]);
      const meta = { count: images.length, channels: 3, height: images.height, width: images.width,
        labels: images.labels ? [...images.labels] : null, classes: this.classes, skipped: this.skipped, sources: images.sources };
      atomicWriteFile(cache.meta, [Buffer.from(JSON.stringify(meta))]); // written last: marks the cache complete
    }
    return images;
  }

  /** The cache files for this folder's current contents and `target` size. */
  private cachePaths(dir: string, target: number[] | undefined): { pixels: string; meta: string } {
    const hash = createHash('sha1');
    hash.update(JSON.stringify({ root: resolve(this.root), target, labels: this.labels ? [...this.labels] : null }));
    for (const f of this.files) {
      const st = statSync(f, { throwIfNoEntry: false });
      hash.update(`${f}\0${st?.size}\0${st?.mtimeMs}\n`);
    }
    const stem = join(dir, `${basename(resolve(this.root))}-${hash.digest('hex').slice(0, 16)}`);
    return { pixels: `${stem}.u8`, meta: `${stem}.json` };
  }

  /** The cached images, or null when there is no complete, consistent cache. */
  private readCache(cache: { pixels: string; meta: string }): ImageArray | null {
    if (!existsSync(cache.meta) || !existsSync(cache.pixels)) return null;
    try {
      const meta = JSON.parse(readFileSync(cache.meta, 'utf8')) as {
        count: number; channels: number; height: number; width: number; labels: number[] | null; classes: string[]; skipped: { path: string; reason: string }[]; sources?: string[];
      };
      const bytes = mapFile(cache.pixels);
      if (bytes.length !== meta.count * meta.channels * meta.height * meta.width) return null;
      this.skipped = meta.skipped;
      return new ImageArray(bytes, meta.channels, meta.height, meta.width, meta.labels ? Int32Array.from(meta.labels) : null, meta.classes, meta.sources ?? null);
    } catch {
      return null; // unreadable or half-written: decode again
    }
  }

  private async decodeAll(target: number[] | undefined, o: LoadOptions): Promise<ImageArray> {
    const warn = o.warn ?? ((line: string) => process.stderr.write(line + '\n'));
    const decoded: ({ data: Buffer; height: number; width: number } | null)[] = new Array(this.files.length).fill(null);
    this.skipped = [];
    const skip = (path: string, reason: string): void => {
      this.skipped.push({ path, reason });
      warn(`selfsup: skipping ${relative(process.cwd(), path) || path}: ${reason}`);
    };
    // Without a target size, the first image whose header reads sets it; others are checked by their header, never decoded to be refused.
    let expected: { width: number; height: number } | undefined;
    if (!target) {
      for (const path of this.files) {
        try {
          expected = orientedSize(await sharp(await readImageFile(path), imageDecodeOptions()).metadata());
          break;
        } catch {
          // skipped with its reason by the decoding pass below
        }
      }
    }
    const decodeOne = async (i: number): Promise<void> => {
      const path = this.files[i];
      try {
        const bytes = await readImageFile(path);
        if (expected) {
          const size = orientedSize(await sharp(bytes, imageDecodeOptions()).metadata());
          if (size.width !== expected.width || size.height !== expected.height) {
            skip(path, `is ${size.width}x${size.height}, the others ${expected.width}x${expected.height} (pass load({ size }) to resize)`);
            return;
          }
        }
        let pipeline = sharp(bytes, imageDecodeOptions()).rotate().removeAlpha().toColourspace('srgb');
        if (target) pipeline = pipeline.resize(target[1], target[0], { fit: 'fill' });
        const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
        decoded[i] = { data, height: info.height, width: info.width };
      } catch (error) {
        skip(path, (error as Error).message.split('\n')[0]);
      }
    };
    const concurrency = Math.max(1, o.concurrency ?? 32);
    for (let start = 0; start < this.files.length; start += concurrency) {
      await Promise.all(Array.from({ length: Math.min(concurrency, this.files.length - start) }, (_, k) => decodeOne(start + k)));
    }
    const [h, w] = target ?? (expected ? [expected.height, expected.width] : [0, 0]);
    const kept = decoded.flatMap((d, i) => (d === null ? [] : [i]));
    if (kept.length === 0) throw new Error(`${this.root}: none of the ${this.files.length} images could be decoded`);
    if (this.skipped.length > 0) warn(`selfsup: ${this.skipped.length} of ${this.files.length} images skipped in ${this.root}`);
    // HWC interleaved from libvips -> NCHW planar, one permute in the engine.
    const hwc = new Uint8Array(kept.length * h * w * 3);
    kept.forEach((i, k) => hwc.set(decoded[i]!.data, k * h * w * 3));
    const pixels = tidy(() => new Uint8Array(tensor(hwc, { shape: [kept.length, h, w, 3] }).permute(0, 3, 1, 2).contiguous().toBytes()));
    const labels = this.labels ? Int32Array.from(kept, (i) => this.labels![i]) : null;
    return new ImageArray(pixels, 3, h, w, labels, this.classes, kept.map((i) => this.files[i]));
  }
}
