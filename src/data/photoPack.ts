/**
 * A packed photo store (in the spirit of FFCV's .beton files): every photo of a folder resized
 * once so its longer side is at most `maxSide` (aspect kept, never enlarged, EXIF orientation
 * applied, 8-bit sRGB), stored one after another in one file as JPEG or raw pixels, with an
 * index of offsets. The file is memory-mapped and each photo read by its offset: no file system
 * walk, no open() per photo, and far fewer bytes to decode than the originals.
 *
 * Layout: "SSPACK01", the photos' bytes, the index (float64 offset, length, height, width per
 * photo), the labels (int32 per photo, when labelled), the names (a UTF-8 JSON array), then a
 * JSON footer and its byte length as the last 8 bytes (uint64 LE). Written to a temporary file and
 * renamed, so a pack is whole or absent.
 *
 * ```ts
 * await writePhotoPack(ImageFolder.scan('photos'), 'photos.pack', { maxSide: 320 });
 * const store = new PackPhotoStore('photos.pack');   // a PhotoStore for the loader
 * ```
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { relative } from 'node:path';
import sharp from 'sharp';
import { mapFile } from '../tensor/index.js';
import type { ImageFolder } from './imageFolder.js';
import { imageDecodeOptions, readImageFile } from './imageFile.js';
import type { PhotoStore, StoredPhoto } from './photoViews.js';

const MAGIC = 'SSPACK01';

export interface PackFooter {
  version: 1;
  count: number;
  encoding: 'jpeg' | 'raw';
  maxSide: number;
  /** class names when labelled (labels index them), else [] */
  classes: string[];
  labelled: boolean;
  /** the folder the photos came from, and how many of its files were skipped */
  source: string;
  skipped: { path: string; reason: string }[];
  indexOffset: number;
  labelsOffset: number;
  namesOffset: number;
  namesLength: number;
}

export interface PackOptions {
  /** the longest side kept (default 320) */
  maxSide?: number;
  encoding?: 'jpeg' | 'raw';
  /** JPEG quality (default 90) */
  quality?: number;
  /** photos converted at once */
  concurrency?: number;
  warn?: (line: string) => void;
  /** called after each chunk with the photos done so far */
  onProgress?: (done: number, total: number) => void;
}

/** Packs the photos of `folder` into the file `out` (see the module comment); returns its footer. */
export async function writePhotoPack(folder: ImageFolder, out: string, o: PackOptions = {}): Promise<PackFooter> {
  const maxSide = o.maxSide ?? 320;
  if (!(Number.isInteger(maxSide) && maxSide >= 8)) throw new Error(`maxSide must be a whole number of pixels >= 8, got ${maxSide}`);
  const encoding = o.encoding ?? 'jpeg';
  if (encoding !== 'jpeg' && encoding !== 'raw') throw new Error(`encoding must be jpeg or raw, got ${String(encoding)}`);
  const quality = o.quality ?? 90;
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new Error(`quality must be a whole number from 1 to 100, got ${quality}`);
  const warn = o.warn ?? ((line: string) => process.stderr.write(line + '\n'));
  const temporary = `${out}.partial-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    let position = 0;
    const write = (bytes: Uint8Array): void => {
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
    };
    const pad8 = (): void => write(new Uint8Array((8 - (position % 8)) % 8));
    write(Buffer.from(MAGIC));
    const index: number[] = [];
    const labels: number[] = [];
    const names: string[] = [];
    const skipped: { path: string; reason: string }[] = [];
    const convert = async (path: string): Promise<{ bytes: Uint8Array; height: number; width: number }> => {
      let pipeline = sharp(await readImageFile(path), imageDecodeOptions()).rotate()
        .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }).removeAlpha().toColourspace('srgb');
      pipeline = encoding === 'jpeg' ? pipeline.jpeg({ quality }) : pipeline.raw({ depth: 'uchar' });
      const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
      if (encoding === 'raw' && info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
      return { bytes: data, height: info.height, width: info.width };
    };
    const concurrency = Math.max(1, o.concurrency ?? 8);
    for (let start = 0; start < folder.length; start += concurrency) {
      const chunk = folder.files.slice(start, start + concurrency);
      const results = await Promise.all(chunk.map((path) => convert(path).catch((error: Error) => error)));
      results.forEach((r, k) => {
        const path = chunk[k];
        if (r instanceof Error) {
          skipped.push({ path, reason: r.message.split('\n')[0] });
          warn(`selfsup: skipping ${relative(process.cwd(), path) || path}: ${r.message.split('\n')[0]}`);
          return;
        }
        index.push(position, r.bytes.length, r.height, r.width);
        write(r.bytes);
        if (folder.labels) labels.push(folder.labels[start + k]);
        names.push(relative(folder.root, path));
      });
      o.onProgress?.(Math.min(folder.length, start + concurrency), folder.length);
    }
    const count = names.length;
    if (count === 0) throw new Error(`${folder.root}: none of the ${folder.length} images could be decoded`);
    pad8();
    const indexOffset = position;
    write(new Uint8Array(Float64Array.from(index).buffer));
    const labelsOffset = position;
    if (folder.labels) write(new Uint8Array(Int32Array.from(labels).buffer));
    const namesBytes = Buffer.from(JSON.stringify(names)); // (a file name may hold any character but NUL and /)
    const namesOffset = position;
    write(namesBytes);
    const footer: PackFooter = {
      version: 1, count, encoding, maxSide, classes: folder.classes, labelled: folder.labels !== null, source: folder.root, skipped,
      indexOffset, labelsOffset, namesOffset, namesLength: namesBytes.length,
    };
    const footerBytes = Buffer.from(JSON.stringify(footer));
    write(footerBytes);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(footerBytes.length));
    write(length);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, out);
    return footer;
  } catch (error) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The footer of a pack's bytes, checked against their length. */
function readFooter(path: string, bytes: Buffer): PackFooter {
  const fail = (what: string): never => { throw new Error(`${path}: not a selfsup photo pack (${what}; make one with selfsup pack)`); };
  if (bytes.length < 16 || bytes.subarray(0, 8).toString() !== MAGIC) fail(`no ${MAGIC} header`);
  const footerLength = Number(bytes.readBigUInt64LE(bytes.length - 8));
  if (footerLength <= 0 || footerLength > bytes.length - 16) fail('no footer: cut short?');
  let footer: PackFooter;
  try {
    footer = JSON.parse(bytes.subarray(bytes.length - 8 - footerLength, bytes.length - 8).toString()) as PackFooter;
  } catch {
    return fail('unreadable footer: cut short?');
  }
  const f = footer;
  const end = bytes.length - 8 - footerLength;
  if (f.version !== 1 || !(f.count > 0) || f.indexOffset % 8 !== 0 || f.indexOffset + f.count * 32 > f.labelsOffset
    || f.labelsOffset + (f.labelled ? f.count * 4 : 0) > f.namesOffset || f.namesOffset + f.namesLength > end) fail('bad footer');
  return f;
}

/** The footer, index and labels of a pack (checked), the photos memory-mapped. */
export class PackPhotoStore implements PhotoStore {
  readonly footer: PackFooter;
  readonly length: number;
  private readonly bytes: Buffer;
  /** offset, length, height, width per photo */
  private readonly index: Float64Array;
  private names: string[] | null = null;

  /** `select`: the pack's photos this store holds, in this order (a subset); default all */
  constructor(readonly path: string, private readonly select?: readonly number[]) {
    this.bytes = mapFile(path);
    this.footer = readFooter(path, this.bytes);
    this.length = select?.length ?? this.footer.count;
    this.index = new Float64Array(this.bytes.buffer, this.bytes.byteOffset + this.footer.indexOffset, this.footer.count * 4);
  }

  /** int32 labels of every photo, or null for an unlabeled pack. */
  labels(): Int32Array | null {
    if (!this.footer.labelled) return null;
    const start = this.bytes.byteOffset + this.footer.labelsOffset;
    const all = new Int32Array(this.bytes.buffer.slice(start, start + this.footer.count * 4));
    return this.select ? Int32Array.from(this.select, (i) => all[i]) : all;
  }

  /** The photos' paths relative to the packed folder, in order. */
  allNames(): string[] {
    if (!this.names) {
      const all = JSON.parse(this.bytes.subarray(this.footer.namesOffset, this.footer.namesOffset + this.footer.namesLength).toString()) as string[];
      this.names = this.select ? this.select.map((i) => all[i]) : all;
    }
    return this.names;
  }

  name(i: number): string {
    return `${this.path}#${this.select?.[i] ?? i}`;
  }

  async read(i: number): Promise<StoredPhoto> {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) throw new RangeError(`${this.path}: photo ${i} out of range [0, ${this.length})`);
    const at = this.select?.[i] ?? i;
    const [offset, length, height, width] = this.index.subarray(4 * at, 4 * at + 4);
    const bytes = this.bytes.subarray(offset, offset + length);
    if (this.footer.encoding !== 'raw') return { encoded: bytes };
    if (length !== height * width * 3) throw new Error(`${this.name(i)}: ${length} bytes for a ${width}x${height} RGB photo (a damaged pack?)`);
    return { pixels: bytes, height, width };
  }
}
