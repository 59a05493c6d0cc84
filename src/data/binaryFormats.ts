/**
 * Readers of the classic binary image formats, into an {@link ImageArray}:
 * - CIFAR-10/100 binary batches (Krizhevsky, 2009): records of 1 label byte (CIFAR-100:
 *   coarse then fine) and 3072 bytes of 32x32 R, G, B planes.
 * - STL-10 binary (Coates et al., 2011): 96x96x3 images stored column-major per channel,
 *   labels 1..10 in a separate file; `unlabeled` has no labels.
 * - IDX (MNIST, Fashion-MNIST; LeCun et al., 1998): big-endian magic and dimensions, plain or
 *   gzip-compressed (Debian's dataset-fashion-mnist installs them under
 *   /usr/share/datasets/fashion-mnist/).
 * Every problem is an Error naming the file and what was expected.
 *
 * ```ts
 * const test = readCifar10('cifar-10-batches-bin', 'test');    // 10,000 images
 * const fashion = readIdx('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz');
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tensor, tidy } from '../tensor/index.js';
import { ImageArray } from './imageArray.js';

const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const STL10_CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'];

function read(path: string): Buffer {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const bytes = readFileSync(path);
  if (path.endsWith('.gz')) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${path}: not a valid gzip file (${(error as Error).message})`);
    }
  }
  return bytes;
}

/** Parses CIFAR records with `labelBytes` leading label bytes, keeping label byte `labelIndex`. */
function cifarRecords(files: string[], labelBytes: number, labelIndex: number, classes: string[]): ImageArray {
  const imageBytes = 3 * 32 * 32;
  const record = labelBytes + imageBytes;
  const buffers = files.map((f) => {
    const b = read(f);
    if (b.length === 0 || b.length % record !== 0) throw new Error(`${f}: ${b.length} bytes is not a whole number of ${record}-byte CIFAR records`);
    return b;
  });
  const count = buffers.reduce((n, b) => n + b.length / record, 0);
  const pixels = new Uint8Array(count * imageBytes);
  const labels = new Int32Array(count);
  let k = 0;
  buffers.forEach((b, fileIndex) => {
    for (let offset = 0; offset < b.length; offset += record, k++) {
      const label = b[offset + labelIndex];
      if (label >= classes.length && classes.length > 0) throw new Error(`${files[fileIndex]}: record ${offset / record} has label ${label}, expected < ${classes.length}`);
      labels[k] = label;
      pixels.set(b.subarray(offset + labelBytes, offset + record), k * imageBytes);
    }
  });
  return new ImageArray(pixels, 3, 32, 32, labels, classes);
}

/** CIFAR-10 from the folder of `data_batch_1..5.bin` / `test_batch.bin` (cifar-10-batches-bin). */
export function readCifar10(folder: string, split: 'train' | 'test'): ImageArray {
  const files = split === 'train' ? [1, 2, 3, 4, 5].map((i) => join(folder, `data_batch_${i}.bin`)) : [join(folder, 'test_batch.bin')];
  return cifarRecords(files, 1, 0, CIFAR10_CLASSES);
}

/** CIFAR-100 from the folder of `train.bin` / `test.bin`; fine (100) or coarse (20) labels. */
export function readCifar100(folder: string, split: 'train' | 'test', labels: 'fine' | 'coarse' = 'fine'): ImageArray {
  const classes = Array.from({ length: labels === 'fine' ? 100 : 20 }, (_, i) => String(i));
  return cifarRecords([join(folder, `${split}.bin`)], 2, labels === 'fine' ? 1 : 0, classes);
}

/** STL-10 from the folder of `train_X.bin`, `train_y.bin`, `test_*.bin`, `unlabeled_X.bin` (stl10_binary). */
export function readStl10(folder: string, split: 'train' | 'test' | 'unlabeled'): ImageArray {
  const side = 96;
  const imageBytes = 3 * side * side;
  const xPath = join(folder, `${split}_X.bin`);
  const x = read(xPath);
  if (x.length === 0 || x.length % imageBytes !== 0) throw new Error(`${xPath}: ${x.length} bytes is not a whole number of 96x96x3 images`);
  const count = x.length / imageBytes;
  // Each channel plane is stored column-major: transpose every plane to row-major (in the engine).
  const pixels = tidy(() => new Uint8Array(tensor(new Uint8Array(x.buffer, x.byteOffset, x.length), { shape: [count, 3, side, side] }).transpose(2, 3).contiguous().toBytes()));
  let labels: Int32Array | null = null;
  if (split !== 'unlabeled') {
    const yPath = join(folder, `${split}_y.bin`);
    const y = read(yPath);
    if (y.length !== count) throw new Error(`${yPath}: ${y.length} labels for ${count} images in ${xPath}`);
    labels = Int32Array.from(y, (v, i) => {
      if (v < 1 || v > 10) throw new Error(`${yPath}: label ${v} at ${i}, expected 1..10`);
      return v - 1;
    });
  }
  return new ImageArray(pixels, 3, side, side, labels, STL10_CLASSES);
}

/** IDX images (magic 0x00000803) with optional IDX labels (0x00000801), plain or .gz. */
export function readIdx(imagesPath: string, labelsPath?: string): ImageArray {
  const images = read(imagesPath);
  const header = (b: Buffer, path: string, magic: number, dims: number): number[] => {
    if (b.length < 4) throw new Error(`${path}: ${b.length} bytes, too short for an IDX header`);
    const found = b.readUInt32BE(0);
    if (found !== magic) throw new Error(`${path}: IDX magic 0x${found.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')} (unsigned bytes, ${dims} dimensions)`);
    if (b.length < 4 + 4 * dims) throw new Error(`${path}: ${b.length} bytes, too short for an IDX header`);
    return Array.from({ length: dims }, (_, i) => b.readUInt32BE(4 + 4 * i));
  };
  const [count, height, width] = header(images, imagesPath, 0x00000803, 3);
  const offset = 16;
  if (images.length !== offset + count * height * width) {
    throw new Error(`${imagesPath}: ${images.length - offset} pixel bytes, the header announces ${count}x${height}x${width} (truncated file?)`);
  }
  let labels: Int32Array | null = null;
  if (labelsPath !== undefined) {
    const l = read(labelsPath);
    const [n] = header(l, labelsPath, 0x00000801, 1);
    if (n !== count) throw new Error(`${labelsPath}: ${n} labels for ${count} images in ${imagesPath}`);
    if (l.length !== 8 + n) throw new Error(`${labelsPath}: ${l.length - 8} label bytes, the header announces ${n} (truncated file?)`);
    labels = Int32Array.from(l.subarray(8));
  }
  const classes = labels ? Array.from({ length: Math.max(...labels) + 1 }, (_, i) => String(i)) : [];
  return new ImageArray(new Uint8Array(images.buffer, images.byteOffset + offset, count * height * width), 1, height, width, labels, classes);
}
