// Binary data-set readers, each on files written here in its format.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { ImageArray, labelSubset, readCifar10, readCifar100, readIdx, readStl10 } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-data-'));
/** A deterministic pixel value for image i, channel c, row y, column x. */
const pixel = (i: number, c: number, y: number, x: number) => (i * 37 + c * 101 + y * 7 + x * 3) % 256;

function cifarRecord(i: number, labels: number[]): Buffer {
  const out = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, k) => { out[k] = l; });
  for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[labels.length + c * 1024 + y * 32 + x] = pixel(i, c, y, x);
  return out;
}

describe('binary data sets', () => {
  test('CIFAR-10 batches: labels and planar RGB pixels, train = 5 files in order', () => {
    const folder = join(dir, 'cifar10');
    mkdirSync(folder);
    for (let b = 1; b <= 5; b++) writeFileSync(join(folder, `data_batch_${b}.bin`), Buffer.concat([0, 1].map((k) => cifarRecord(2 * (b - 1) + k, [(2 * (b - 1) + k) % 10]))));
    writeFileSync(join(folder, 'test_batch.bin'), cifarRecord(99, [7]));
    const train = readCifar10(folder, 'train');
    assert.equal(train.length, 10);
    assert.deepEqual([...train.labels!], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(train.classes[3], 'cat');
    const img = train.batch([6]);
    assert.deepEqual(img.shape, [1, 3, 32, 32]);
    assert.equal(img.dtype, 'uint8');
    const values = img.toArray() as number[][][][];
    assert.equal(values[0][2][5][9], pixel(6, 2, 5, 9));
    assert.equal(values[0][0][31][0], pixel(6, 0, 31, 0));
    assert.deepEqual(train.batchLabels([6, 2]).toArray(), [6, 2]);
    const t = readCifar10(folder, 'test');
    assert.equal(t.length, 1);
    assert.equal(t.labels![0], 7);
  });
  test('CIFAR-100: fine or coarse labels', () => {
    const folder = join(dir, 'cifar100');
    mkdirSync(folder);
    writeFileSync(join(folder, 'train.bin'), Buffer.concat([cifarRecord(0, [3, 42]), cifarRecord(1, [19, 99])]));
    assert.deepEqual([...readCifar100(folder, 'train').labels!], [42, 99]);
    assert.deepEqual([...readCifar100(folder, 'train', 'coarse').labels!], [3, 19]);
    assert.equal(readCifar100(folder, 'train').image(1)[1024 + 32 * 3 + 4], pixel(1, 1, 3, 4));
  });
  test('STL-10: column-major planes become row-major; labels 1..10 become 0..9; unlabeled split', () => {
    const folder = join(dir, 'stl10');
    mkdirSync(folder);
    const images = Buffer.alloc(2 * 3 * 96 * 96);
    for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) for (let y = 0; y < 96; y++) for (let x = 0; x < 96; x++) {
      images[((i * 3 + c) * 96 + x) * 96 + y] = pixel(i, c, y, x); // column-major within each plane
    }
    writeFileSync(join(folder, 'train_X.bin'), images);
    writeFileSync(join(folder, 'train_y.bin'), Buffer.from([1, 10]));
    writeFileSync(join(folder, 'unlabeled_X.bin'), images);
    const train = readStl10(folder, 'train');
    assert.deepEqual([...train.labels!], [0, 9]);
    assert.equal(train.classes[9], 'truck');
    assert.equal(train.image(1)[2 * 96 * 96 + 10 * 96 + 70], pixel(1, 2, 10, 70));
    assert.equal(readStl10(folder, 'unlabeled').labels, null);
    writeFileSync(join(folder, 'test_X.bin'), images);
    writeFileSync(join(folder, 'test_y.bin'), Buffer.from([1]));
    assert.throws(() => readStl10(folder, 'test'), /test_y\.bin: 1 labels for 2 images/);
  });
  test('IDX: plain and gzip, images with labels', () => {
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const pixels = Buffer.from(Array.from({ length: 3 * 4 * 5 }, (_, k) => (k * 11) % 256));
    const images = Buffer.concat([header(0x803, [3, 4, 5]), pixels]);
    const labels = Buffer.concat([header(0x801, [3]), Buffer.from([9, 0, 4])]);
    writeFileSync(join(dir, 'images-idx3-ubyte'), images);
    writeFileSync(join(dir, 'labels-idx1-ubyte.gz'), gzipSync(labels));
    const set = readIdx(join(dir, 'images-idx3-ubyte'), join(dir, 'labels-idx1-ubyte.gz'));
    assert.equal(set.length, 3);
    assert.equal(set.channels, 1);
    assert.deepEqual([set.height, set.width], [4, 5]);
    assert.deepEqual([...set.labels!], [9, 0, 4]);
    assert.deepEqual([...set.image(2)], [...pixels.subarray(40, 60)]);
    writeFileSync(join(dir, 'short-idx3-ubyte'), images.subarray(0, images.length - 1));
    assert.throws(() => readIdx(join(dir, 'short-idx3-ubyte')), /short-idx3-ubyte: 59 pixel bytes, the header announces 3x4x5 \(truncated file\?\)/);
    assert.throws(() => readIdx(join(dir, 'labels-idx1-ubyte.gz')), /IDX magic 0x00000801, expected 0x00000803/);
    writeFileSync(join(dir, 'bad.gz'), Buffer.from('not gzip'));
    assert.throws(() => readIdx(join(dir, 'bad.gz')), /bad\.gz: not a valid gzip file/);
  });
  test('bad files are errors naming the file', () => {
    const folder = join(dir, 'broken');
    mkdirSync(folder);
    writeFileSync(join(folder, 'test_batch.bin'), Buffer.alloc(3000));
    assert.throws(() => readCifar10(folder, 'test'), /test_batch\.bin: 3000 bytes is not a whole number of 3073-byte CIFAR records/);
    assert.throws(() => readCifar10(folder, 'train'), /data_batch_1\.bin: no such file/);
    writeFileSync(join(folder, 'test_batch.bin'), cifarRecord(0, [12]));
    assert.throws(() => readCifar10(folder, 'test'), /record 0 has label 12, expected < 10/);
  });
});

describe('low-label subsets', () => {
  test('each class keeps the same share of its images (at least one), seeded; subset copies images, labels and sources', () => {
    const counts = [50, 30, 20];
    const labels = Int32Array.from(counts.flatMap((n, c) => Array(n).fill(c)));
    const pixels = Uint8Array.from({ length: labels.length * 3 }, (_, i) => Math.floor(i / 3) % 256);
    const images = new ImageArray(pixels, 3, 1, 1, labels, ['a', 'b', 'c'], Array.from(labels, (_, i) => `img${i}`));
    const tenth = labelSubset(images, 0.1, 0);
    const perClass = (indices: number[]) => counts.map((_, c) => indices.filter((i) => labels[i] === c).length);
    assert.deepEqual(perClass(tenth), [5, 3, 2]);
    assert.deepEqual(perClass(labelSubset(images, 0.01, 0)), [1, 1, 1]);
    assert.deepEqual(labelSubset(images, 0.1, 0), tenth, 'the same seed, the same subset');
    assert.notDeepEqual(labelSubset(images, 0.1, 1), tenth, 'another seed, another subset');
    assert.equal(labelSubset(images, 1, 0).length, 100);
    const sub = images.subset(tenth);
    assert.equal(sub.length, 10);
    assert.deepEqual(Array.from(sub.labels!), tenth.map((i) => labels[i]));
    assert.deepEqual(Array.from(sub.image(3)), Array(3).fill(tenth[3] % 256));
    assert.equal(sub.sources![3], `img${tenth[3]}`);
    assert.throws(() => labelSubset(images, 0, 0), /fraction of labels must be in \(0, 1\]/);
    assert.throws(() => labelSubset(new ImageArray(pixels, 3, 1, 1, null), 0.1), /no labels/);
  });
});
