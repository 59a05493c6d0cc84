// ImageFolder on real CIFAR-10 JPEGs (test/fixtures/cifar10-mini) and on a corpus of bad files.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { ImageFolder } from '../src/data/index.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures', import.meta.url));
const mini = join(fixtures, 'cifar10-mini');
const dir = mkdtempSync(join(tmpdir(), 'selfsup-folder-'));

describe('ImageFolder', () => {
  test('real CIFAR-10 JPEGs: classes from sub-folders, decoded to NCHW uint8', async () => {
    const folder = ImageFolder.scan(mini);
    assert.equal(folder.length, 40);
    assert.deepEqual(folder.classes, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    const images = await folder.load();
    assert.equal(images.length, 40);
    assert.deepEqual([images.channels, images.height, images.width], [3, 32, 32]);
    assert.deepEqual([...images.labels!].slice(0, 8), [0, 0, 0, 0, 1, 1, 1, 1]);
    // The planar layout matches sharp's own decoding of the first file (pixel 5,7 of each channel).
    const { data } = await sharp(folder.files[0]).raw().toBuffer({ resolveWithObject: true });
    const first = images.image(0);
    for (let c = 0; c < 3; c++) assert.equal(first[c * 1024 + 5 * 32 + 7], data[(5 * 32 + 7) * 3 + c]);
    assert.deepEqual(folder.skipped, []);
    const resized = await folder.load({ size: 16 });
    assert.deepEqual([resized.height, resized.width], [16, 16]);
  });
  test('a corpus of bad and unusual files: each decoded or skipped and counted, never a crash', async () => {
    const root = join(dir, 'corpus');
    mkdirSync(join(root, 'good'), { recursive: true });
    mkdirSync(join(root, 'odd'), { recursive: true });
    const jpeg = readFileSync(ImageFolder.scan(mini).files[0]);
    writeFileSync(join(root, 'good', 'a.jpg'), jpeg);
    writeFileSync(join(root, 'odd', 'zero.jpg'), Buffer.alloc(0));
    writeFileSync(join(root, 'odd', 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(join(root, 'odd', 'text.png'), 'not an image at all');
    const gray = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90, g: 90, b: 90 } } }).grayscale().png().toBuffer();
    writeFileSync(join(root, 'odd', 'gray.png'), gray);
    const rgba = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
    writeFileSync(join(root, 'odd', 'rgba.png'), rgba);
    const deep = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 255, g: 128, b: 0 } } }).toColourspace('rgb16').png().toBuffer();
    writeFileSync(join(root, 'odd', 'sixteen.png'), deep);
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 1, g: 2, b: 3 } } }).webp({ lossless: true }).toBuffer();
    writeFileSync(join(root, 'odd', 'tiny.webp'), tiny);
    symlinkSync(root, join(root, 'odd', 'loop')); // a symlink loop
    // CMYK JPEG (converted to sRGB), a 10000x10000 JPEG (shrunk while decoding), a file that cannot be read (a dangling link)
    const cmyk = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 30, b: 60 } } }).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    writeFileSync(join(root, 'odd', 'cmyk.jpg'), cmyk);
    writeFileSync(join(root, 'odd', 'huge.jpg'), gunzipSync(readFileSync(join(fixtures, 'huge-10000x10000.jpg.gz'))));
    symlinkSync(join(root, 'nowhere.jpg'), join(root, 'odd', 'unreadable.jpg'));
    const folder = ImageFolder.scan(root);
    assert.deepEqual(folder.classes, ['good', 'odd']);
    assert.equal(folder.length, 11, folder.files.join('\n'));
    const warnings: string[] = [];
    const images = await folder.load({ size: 8, warn: (l) => warnings.push(l) });
    assert.equal(images.length, 7, 'good, cmyk, gray, huge, rgba, 16-bit and tiny decode');
    assert.deepEqual(folder.skipped.map((s) => s.path.split('/').pop()).sort(), ['text.png', 'truncated.jpg', 'unreadable.jpg', 'zero.jpg']);
    assert.match(folder.skipped.find((s) => s.path.endsWith('unreadable.jpg'))!.reason, /ENOENT|no such file/i);
    assert.equal(warnings.length, 5);
    assert.match(warnings[4], /4 of 11 images skipped/);
    const pixels = images.image(images.length - 1); // files sort by name: ..., tiny.webp last
    assert.deepEqual([pixels[0], pixels[64], pixels[128]], [1, 2, 3]);
    const red = images.image(1); // cmyk.jpg, back in RGB: red-dominant as painted
    assert.ok(red[0] > 150 && red[64] < 90 && red[128] < 110, `CMYK decoded as [${red[0]}, ${red[64]}, ${red[128]}]`);
    const big = images.image(3); // huge.jpg: the same colour family after shrinking
    assert.ok(big[0] > 150 && big[64] < 90, `10000x10000 decoded as [${big[0]}, ${big[64]}, ${big[128]}]`);
    // Without a size, a differently sized image is skipped with a reason naming both sizes.
    const odd = ImageFolder.scan(join(root, 'odd'));
    const mixed = await odd.load({ warn: () => {} });
    assert.equal(mixed.length, 5, 'cmyk, gray, the JPEG reached through the link, rgba, 16-bit');
    const tinySkip = odd.skipped.find((x) => x.path.endsWith('tiny.webp'));
    assert.match(tinySkip!.reason, /is 1x1, the others 32x32/);
  });
  test('missing paths, empty folders and empty class folders are errors before decoding', () => {
    assert.throws(() => ImageFolder.scan(join(dir, 'nope')), /nope: no such folder/);
    mkdirSync(join(dir, 'empty'));
    assert.throws(() => ImageFolder.scan(join(dir, 'empty')), /empty: no images/);
    mkdirSync(join(dir, 'classes', 'cat'), { recursive: true });
    mkdirSync(join(dir, 'classes', 'dog'), { recursive: true });
    copyFileSync(ImageFolder.scan(mini).files[0], join(dir, 'classes', 'cat', 'x.jpg'));
    assert.throws(() => ImageFolder.scan(join(dir, 'classes')), /class folder 'dog' has no images/);
  });
  test('the decoded-image cache: memory-mapped on later loads, rebuilt when a file changes', async () => {
    const root = join(dir, 'cached');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    const files = ImageFolder.scan(mini).files;
    files.slice(0, 3).forEach((f, i) => copyFileSync(f, join(root, i < 2 ? 'a' : 'b', `${i}.jpg`)));
    writeFileSync(join(root, 'b', 'broken.jpg'), 'nope');
    const cacheDir = join(dir, 'cache');
    const first = ImageFolder.scan(root);
    const decoded = await first.load({ cache: cacheDir, warn: () => {} });
    assert.equal(first.source, 'decoded');
    const again = ImageFolder.scan(root);
    const mapped = await again.load({ cache: cacheDir, warn: () => {} });
    assert.equal(again.source, 'cache');
    assert.deepEqual(Buffer.from(mapped.pixels), Buffer.from(decoded.pixels));
    assert.deepEqual([...mapped.labels!], [...decoded.labels!]);
    assert.deepEqual(again.skipped.map((x) => x.path), first.skipped.map((x) => x.path), 'the skip report survives');
    const other = ImageFolder.scan(root);
    await other.load({ cache: cacheDir, size: 16, warn: () => {} });
    assert.equal(other.source, 'decoded', 'another size is another cache');
    copyFileSync(files[5], join(root, 'a', '0.jpg')); // change a file
    const changed = ImageFolder.scan(root);
    const fresh = await changed.load({ cache: cacheDir, warn: () => {} });
    assert.equal(changed.source, 'decoded');
    assert.notDeepEqual(Buffer.from(fresh.image(0)), Buffer.from(decoded.image(0)));
  });
  test('unlabeled folders and CSV lists', async () => {
    const flat = ImageFolder.scan(mini, { labels: 'none' });
    assert.equal(flat.labels, null);
    assert.equal(flat.length, 40);
    const csv = join(dir, 'list.csv');
    const files = ImageFolder.scan(mini).files;
    writeFileSync(csv, `path,label\n${files[0]},b\n${files[5]},a\n`);
    const listed = ImageFolder.fromCsv(csv);
    assert.deepEqual(listed.classes, ['a', 'b']);
    assert.deepEqual([...listed.labels!], [1, 0]);
    assert.equal((await listed.load()).length, 2);
    writeFileSync(csv, 'just-a-path\n');
    assert.throws(() => ImageFolder.fromCsv(csv), /row 1 'just-a-path' is not path,label/);
    // RFC 4180: a quoted path may hold commas and quotes; an unquoted one is read up to its last comma
    copyFileSync(files[0], join(dir, 'a,"b".jpg'));
    copyFileSync(files[1], join(dir, 'c,d.jpg'));
    writeFileSync(csv, `path,label\r\n"a,""b"".jpg",x\r\nc,d.jpg,y\r\n`);
    const quoted = ImageFolder.fromCsv(csv);
    assert.deepEqual(quoted.files, [join(dir, 'a,"b".jpg'), join(dir, 'c,d.jpg')]);
    assert.deepEqual([...quoted.labels!], [0, 1]);
    writeFileSync(csv, 'path,label\n"open.jpg,x\n');
    assert.throws(() => ImageFolder.fromCsv(csv), /list\.csv: CSV: a quoted field is not closed/);
  });
});
