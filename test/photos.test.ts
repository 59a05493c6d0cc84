// Photos streamed from disk at their own resolution: views cut from the original, decoding formats,
// bad files, determinism, shards, packs, globs, the choice between streaming and memory, and every
// (method, backbone, size) the CLI accepts taking a step on streamed photos.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { pretrainBackboneSpec, pretrainViews } from '../src/cli/pretrain.js';
import { readPretrainConfig } from '../src/cli/pretrainConfig.js';
import { methodOptions } from '../src/runs/index.js';
import {
  DataLoader, FilePhotoStore, ImageArray, ImageFolder, StreamedImages, epochIndices, globFiles, makePhotoViewBatch, mixSeed, openImageSet,
  openPhoto, shrinkFactor, writePhotoPack,
} from '../src/data/index.js';
import { buildMethod, METHOD_NAMES, methodViews } from '../src/methods/index.js';
import { buildBackbone } from '../src/models/index.js';
import { Generator, fromBytes, noGrad, randn, resizedCrops, tensor, tidy } from '../src/tensor/index.js';
import { KMeansTokenizer } from '../src/tokenizers/index.js';
import { type ViewConfig, seededUniform, viewBox } from '../src/transforms/index.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-photos-'));

/** A smooth RGB photo (gradients and a few rings): resampling it at another scale changes it little. */
async function smoothPhoto(path: string, width: number, height: number, o: { orientation?: number; format?: 'jpeg' | 'png' } = {}): Promise<void> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = Math.round((255 * x) / width);
      pixels[i + 1] = Math.round((255 * y) / height);
      pixels[i + 2] = Math.round(127.5 + 127.5 * Math.sin(Math.hypot(x - width / 2, y - height / 2) / 40));
    }
  }
  let image = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (o.orientation) image = image.withMetadata({ orientation: o.orientation });
  await (o.format === 'png' ? image.png() : image.jpeg({ quality: 95 })).toFile(path);
}

/** A folder of n photos of different sizes (with labels: two class folders). */
async function photoFolder(name: string, n: number): Promise<string> {
  const root = join(dir, name);
  for (let i = 0; i < n; i++) {
    const cls = join(root, i % 2 === 0 ? 'even' : 'odd');
    mkdirSync(cls, { recursive: true });
    await smoothPhoto(join(cls, `p${String(i).padStart(3, '0')}.jpg`), 90 + 13 * i, 70 + 7 * (i % 5));
  }
  return root;
}

const cropOnly = (size: number, crop: ViewConfig['crop'] = { scale: [0.08, 1] }): ViewConfig => ({ size, crop, horizontalFlip: 0.5 });

describe('views cut from each photo at its own resolution', () => {
  test('the boxes are drawn on the original size and cut from the full-resolution decode (torchvision RandomResizedCrop on the photo)', async () => {
    const path = join(dir, 'wide.png'); // PNG: decoded whole (a JPEG may be decoded at 1/2 or 1/4: next test)
    await smoothPhoto(path, 400, 150, { format: 'png' });
    const store = new FilePhotoStore([path]);
    const view = cropOnly(32);
    const batch = await makePhotoViewBatch(store, [0], { views: [view, { size: 24, crop: 'center' }] }, 7);
    // By hand: the same boxes from the photo's own stream, on sharp's full decode of the file.
    const uniform = seededUniform(mixSeed(7, 0));
    const box = viewBox(view, 150, 400, uniform);
    const centre = viewBox({ size: 24, crop: 'center' }, 150, 400, uniform);
    assert.deepEqual(centre, [0, 125, 150, 150]);
    const flipped = uniform() < 0.5;
    const { data } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    const expected = tidy(() => {
      const image = fromBytes(data, [150, 400, 3], 'uint8').permute(2, 0, 1).unsqueeze(0);
      return [
        resizedCrops(image, tensor([box], { dtype: 'int64' }), 32, 'bilinear', true, tensor([flipped ? 1 : 0], { dtype: 'bool' })).div(255).toArray(),
        resizedCrops(image, tensor([centre], { dtype: 'int64' }), 24).div(255).toArray(),
      ];
    });
    assert.ok(box[2] <= 150 && box[3] <= 400 && box[0] + box[2] <= 150 && box[1] + box[3] <= 400);
    const diff = (a: unknown, b: unknown) => Math.max(...(a as number[]).flat(4).map((v, i) => Math.abs(v - (b as number[]).flat(4)[i])));
    assert.ok(diff(batch.views[0].toArray(), expected[0]) < 1e-5);
    assert.ok(diff(batch.views[1].toArray(), expected[1]) < 1e-5);
  });

  test('a large JPEG is decoded at the smallest shrink-on-load scale that covers every box, with views close to the full decode', async () => {
    assert.equal(shrinkFactor([[0, 0, 1200, 1600]], [224], true), 4);       // 1200 / 4 = 300 >= 224
    assert.equal(shrinkFactor([[0, 0, 1200, 1600], [0, 0, 300, 300]], [224, 96], true), 2); // 300 / 2 = 150 >= 96, / 4 = 75 < 96
    assert.equal(shrinkFactor([[0, 0, 1200, 1600]], [224], false), 1);     // PNG: no shrink-on-load
    const path = join(dir, 'large.jpg');
    await smoothPhoto(path, 1600, 1200);
    const opened = await openPhoto({ encoded: readFileSync(path) });
    assert.deepEqual([opened.height, opened.width, opened.shrinkable], [1200, 1600, true]);
    const quarter = await opened.decode(4);
    assert.deepEqual([quarter.height, quarter.width], [300, 400]);
    const view: ViewConfig = { size: 64, crop: 'center' };
    const shrunk = await makePhotoViewBatch(new FilePhotoStore([path]), [0], { views: [view] }, 0);
    const { data } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    const reference = tidy(() => resizedCrops(fromBytes(data, [1200, 1600, 3], 'uint8').permute(2, 0, 1).unsqueeze(0), tensor([[0, 200, 1200, 1200]], { dtype: 'int64' }), 64).div(255));
    const meanDiff = tidy(() => shrunk.views[0].sub(reference).abs().mean().item());
    assert.ok(meanDiff < 0.01, `mean difference from the full decode ${meanDiff}`);
  });

  test('EXIF orientation, grayscale, alpha, 16-bit and CMYK photos all become 8-bit sRGB views', async () => {
    const rotated = join(dir, 'rotated.jpg');
    await smoothPhoto(rotated, 60, 40, { orientation: 6 }); // stored 60x40, shown 40x60
    const opened = await openPhoto({ encoded: readFileSync(rotated) });
    assert.deepEqual([opened.height, opened.width], [60, 40]);
    assert.deepEqual([(await opened.decode(1)).height, (await opened.decode(1)).width], [60, 40]);
    // orientation and shrink-on-load together: the 1/4 decode of a rotated photo is libvips' own rotate + resize
    const big = join(dir, 'rotated-big.jpg');
    await smoothPhoto(big, 1600, 1200, { orientation: 6 });
    const quarter = await (await openPhoto({ encoded: readFileSync(big) })).decode(4);
    const expected = await sharp(big).rotate().resize(300, 400).raw().toBuffer();
    assert.deepEqual([quarter.height, quarter.width], [400, 300]);
    let total = 0;
    for (let i = 0; i < expected.length; i++) total += Math.abs(quarter.pixels[i] - expected[i]);
    assert.ok(total / expected.length < 3, `mean difference ${total / expected.length} of 255`);
    const files = [rotated];
    const add = async (name: string, image: sharp.Sharp) => { const p = join(dir, name); await image.toFile(p); files.push(p); };
    const raw = Buffer.alloc(50 * 30 * 4, 200);
    await add('grey.png', sharp(Buffer.alloc(50 * 30, 90), { raw: { width: 50, height: 30, channels: 1 } }).png());
    await add('alpha.png', sharp(raw, { raw: { width: 50, height: 30, channels: 4 } }).png());
    await add('deep.png', sharp(Buffer.alloc(50 * 30 * 3, 120), { raw: { width: 50, height: 30, channels: 3 } }).png().toColourspace('rgb16'));
    await add('cmyk.jpg', sharp(Buffer.alloc(50 * 30 * 3, 60), { raw: { width: 50, height: 30, channels: 3 } }).toColourspace('cmyk').jpeg());
    const batch = await makePhotoViewBatch(new FilePhotoStore(files), [0, 1, 2, 3, 4], { views: [cropOnly(16)] }, 1);
    assert.deepEqual(batch.skipped, []);
    assert.deepEqual(batch.views[0].shape, [5, 3, 16, 16]);
    const grey = tidy(() => batch.views[0].narrow(0, 1, 1).mul(255).toArray() as number[][][][]);
    assert.ok(Math.abs(grey[0][0][5][5] - 90) < 1 && Math.abs(grey[0][2][5][5] - 90) < 1, 'grey repeated to RGB');
  });
});

describe('bad photos in a stream', () => {
  test('a corrupt file, a decompression bomb and a file deleted after the scan are skipped, named, counted, and replaced', async () => {
    const root = await photoFolder('bad', 8);
    writeFileSync(join(root, 'even', 'p900.jpg'), 'not a jpeg at all');
    const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    small.writeUInt16BE(30000, sof + 5);
    small.writeUInt16BE(30000, sof + 7);
    writeFileSync(join(root, 'odd', 'p901.jpg'), small);
    const photos = StreamedImages.fromFolder(ImageFolder.scan(root));
    rmSync(join(root, 'odd', 'p003.jpg')); // gone between the scan and the read
    const lines: string[] = [];
    const loader = new DataLoader(photos, { batchSize: 10, views: { views: [cropOnly(16)] }, workers: 1, shuffle: false, warn: (l) => lines.push(l) });
    const batch = await loader.next();
    await loader.close();
    assert.deepEqual(batch.views[0].shape, [10, 3, 16, 16]); // full size: each bad photo replaced by the next readable one
    assert.equal(loader.skipped.size, 3);
    assert.equal(lines.length, 3);
    const reasons = [...loader.skipped.entries()].map(([name, reason]) => `${name}: ${reason}`).join('\n');
    assert.match(reasons, /p900\.jpg: .*(unsupported image format|Input buffer)/);
    assert.match(reasons, /p901\.jpg: .*(pixel limit|decompression bomb)/);
    assert.match(reasons, /p003\.jpg: .*(no such file|ENOENT)/i);
    const badIndices = [...loader.skipped.keys()].map((name) => photos.sources.findIndex((s) => s.endsWith(name.split('/').pop()!)));
    for (const i of badIndices) assert.ok(!batch.indices.includes(i), `skipped photo ${i} is not in the batch`);
    assert.deepEqual([...batch.labels!.toArray() as number[]], Array.from(batch.indices, (i) => photos.labels![i]));
    // evaluation drops them instead: the batch is smaller
    const evaluation = new DataLoader(photos, { batchSize: 10, views: { views: [{ size: 16, crop: 'center' }] }, workers: 0, shuffle: false, dropLast: false, unreadable: 'drop', warn: () => undefined });
    const dropped = await evaluation.next();
    await evaluation.close();
    assert.equal(dropped.views[0].size(0), 10 - 3);
    // an evaluation batch of unreadable photos only is empty, and extractSetFeatures passes over it
    const { extractSetFeatures } = await import('../src/eval/index.js');
    const { resnet18 } = await import('../src/models/index.js');
    const bad = photos.subset([...loader.skipped.keys()].map((name) => photos.sources.findIndex((p) => p.endsWith(name.split('/').pop()!))).filter((i) => i >= 0).concat([0]));
    const net = resnet18({ stem: 'cifar', width: 0.125 });
    const { features, indices } = await extractSetFeatures(net, bad, { view: { size: 16, crop: 'center' }, batchSize: 2, workers: 0 });
    assert.deepEqual([...indices], [bad.length - 1]);
    assert.deepEqual(features.shape, [1, net.featureDim]);
  });
});

describe('streaming loader', () => {
  test('batches depend only on (seed, epoch, batch): workers 0 and 2 agree, and a seek resumes the same order', async () => {
    const root = await photoFolder('determinism', 12);
    writeFileSync(join(root, 'even', 'p004.jpg'), 'corrupt'); // replaced by the same photo whichever thread meets it
    const photos = StreamedImages.fromFolder(ImageFolder.scan(root));
    const views = methodViews('dino', { size: 32, localCrops: 2, patchSize: 8 });
    const take = async (workers: number, seek?: { epoch: number; batch: number }) => {
      const loader = new DataLoader(photos, { batchSize: 4, views, workers, seed: 3, warn: () => undefined });
      if (seek) loader.seek(seek);
      const batches = [await loader.next(), await loader.next()];
      await loader.close();
      return batches.map((b) => ({ indices: [...b.indices], views: b.views.map((v) => tidy(() => v.sum().item())) }));
    };
    const inline = await take(0);
    assert.deepEqual(await take(2), inline);
    assert.ok(inline.some((b) => b.indices.length === 4));
    assert.deepEqual(views.views.map((v) => v.size), [32, 32, 16, 16]);
    const resumed = await take(0, { epoch: 0, batch: 1 });
    assert.deepEqual(resumed[0], inline[1]);
  });

  test('each of two ranks reads only its own shard of the photos', async () => {
    const root = await photoFolder('shards', 16);
    const photos = StreamedImages.fromFolder(ImageFolder.scan(root));
    const options = { batchSize: 4, views: { views: [cropOnly(16)] }, workers: 0, seed: 5, worldSize: 2 };
    // rank 0's shard of epoch 0; every other photo is deleted: a read outside the shard would be a skip
    const shard = new Set(epochIndices(photos.length, 0, { ...options, rank: 0 }));
    photos.sources.forEach((path, i) => { if (!shard.has(i)) rmSync(path); });
    const loader = new DataLoader(photos, { ...options, rank: 0, warn: () => undefined });
    const seen: number[] = [];
    for await (const b of loader.epoch()) seen.push(...b.indices);
    await loader.close();
    assert.equal(loader.skipped.size, 0, [...loader.skipped.keys()].join(', '));
    assert.deepEqual(seen.sort((a, b) => a - b), [...shard].sort((a, b) => a - b));
  });
});

describe('photo packs', () => {
  test('a pack holds each photo resized to its max side (raw pixels equal libvips), labels and names; a cut-short pack is refused', async () => {
    const root = await photoFolder('pack', 6);
    writeFileSync(join(root, 'even', 'a.jpg'), 'broken'); // the first file: a skip must not shift the labels or names after it
    const folder = ImageFolder.scan(root);
    const out = join(dir, 'photos.pack');
    const footer = await writePhotoPack(folder, out, { maxSide: 64, encoding: 'raw', warn: () => undefined });
    assert.equal(footer.count, 6);
    assert.equal(footer.skipped.length, 1);
    const packed = StreamedImages.fromPack(out);
    assert.deepEqual(packed.classes, ['even', 'odd']);
    assert.deepEqual([...packed.labels!], [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(packed.sources, ['p000', 'p002', 'p004', 'p001', 'p003', 'p005'].map((p, i) => join(i < 3 ? 'even' : 'odd', `${p}.jpg`)));
    const { PackPhotoStore } = await import('../src/data/index.js');
    const first = await new PackPhotoStore(out).read(0);
    const expected = await sharp(folder.files[1]).resize(64, 64, { fit: 'inside' }).raw().toBuffer({ resolveWithObject: true }); // files[0] is a.jpg
    assert.ok('pixels' in first);
    assert.deepEqual([first.height, first.width], [expected.info.height, expected.info.width]);
    assert.ok(Buffer.from(first.pixels).equals(expected.data));
    // a subset reads the right photos; a loader trains from the pack
    const odd = packed.subset([3, 5]);
    assert.deepEqual([...odd.labels!], [1, 1]);
    const loader = new DataLoader(odd, { batchSize: 2, views: { views: [cropOnly(16)] }, workers: 0 });
    assert.deepEqual((await loader.next()).views[0].shape, [2, 3, 16, 16]);
    await loader.close();
    const cut = join(dir, 'cut.pack');
    writeFileSync(cut, readFileSync(out).subarray(0, 5000));
    assert.throws(() => StreamedImages.fromPack(cut), /cut\.pack: not a selfsup photo pack/);
    truncateSync(cut, 4);
    assert.throws(() => StreamedImages.fromPack(cut), /not a selfsup photo pack \(no SSPACK01 header/);
  });
});

describe('opening photo data', () => {
  test('globs match by segment and **; folders of differing or large photos stream, small equal images load into memory', async () => {
    const root = await photoFolder('glob', 4);
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#123456' } }).png().toFile(join(root, 'odd', 'extra.png'));
    assert.deepEqual(globFiles(`${root}/*/p00?.jpg`).map((p) => p.slice(root.length + 1)), ['even/p000.jpg', 'even/p002.jpg', 'odd/p001.jpg', 'odd/p003.jpg']);
    assert.deepEqual(globFiles(`${root}/**/*.{png,PNG}`).map((p) => p.slice(root.length + 1)), ['odd/extra.png']);
    mkdirSync(join(root, '.thumbnails'));
    writeFileSync(join(root, '.thumbnails', 't.png'), '');
    assert.equal(globFiles(`${root}/**`).length, 5); // a trailing ** is every file below; hidden folders are not walked
    assert.ok(await openImageSet(`${root}/**/*.jpg`, { size: 64 }) instanceof StreamedImages);
    assert.ok(await openImageSet(root, { size: 32 }) instanceof StreamedImages);                     // larger than 32 px
    assert.ok(await openImageSet(root, { size: 32, storage: 'memory' }) instanceof ImageArray);       // --in-memory
    const small = join(dir, 'small');
    mkdirSync(small);
    for (let i = 0; i < 3; i++) await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toFile(join(small, `s${i}.png`));
    assert.ok(await openImageSet(small, { size: 16 }) instanceof ImageArray);
    await assert.rejects(openImageSet(`${root}/*/*.gif`), /glob\/\*\/\*\.gif: no image files .* match this pattern/);
  });
});

describe('selfsup pack and pretrain on photos', () => {
  const cli = join(fileURLToPath(new URL('../src/cli/main.js', import.meta.url)));
  const selfsup = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

  test('a folder with a corrupt photo: packed (skip named), trained from the pack, streamed with the skip in the summary, and over two ranks', async () => {
    const root = await photoFolder('cli', 8);
    writeFileSync(join(root, 'odd', 'p500.jpg'), 'corrupt');
    const pack = join(dir, 'cli.pack');
    const packed = selfsup('pack', root, '--out', pack, '--max-side', '96');
    assert.equal(packed.status, 0, packed.stderr);
    assert.match(packed.stdout, /packed 8 photos .* 2 classes\) into .*cli\.pack: .* MB; 1 unreadable files skipped/);
    assert.match(packed.stderr, /skipping .*p500\.jpg/);
    assert.match(selfsup('pack', root, '--out', pack).stderr, /cli\.pack exists; --overwrite to replace it/);
    const fromPack = selfsup('pretrain', '--method', 'simclr', '--data', pack, '--size', '32', '--batch-size', '8', '--max-steps', '1', '--width', '0.25', '--out', join(dir, 'run-pack'));
    assert.equal(fromPack.status, 0, fromPack.stderr);
    assert.match(fromPack.stderr, /streaming 8 photos from .*cli\.pack/);
    // every photo in the one batch of 9: the corrupt one is met, replaced, counted and listed
    // (the kNN monitor streams the labelled photos too: the corrupt one left out of its bank)
    const streamed = selfsup('pretrain', '--method', 'simclr', '--data', root, '--size', '32', '--batch-size', '9', '--max-steps', '1', '--width', '0.25',
      '--knn-train', root, '--knn-test', root, '--out', join(dir, 'run-folder'));
    assert.equal(streamed.status, 0, streamed.stderr);
    assert.match(streamed.stderr, /step 1: kNN top-1 \d+\.\d\d%/);
    assert.match(streamed.stderr, /1 unreadable photo skipped, each replaced by the next readable one/);
    const summary = JSON.parse(readFileSync(join(dir, 'run-folder', 'summary.json'), 'utf8')) as { skippedImages: Record<string, string> };
    assert.deepEqual(Object.keys(summary.skippedImages).map((k) => k.split('/').pop()), ['p500.jpg']);
    // the first try: DINO, ViT-Tiny/16 at 96 px (local crops rounded to 48, a multiple of the patch), two processes
    const dino = selfsup('pretrain', '--method', 'dino', '--backbone', 'vit_tiny', '--data', root, '--size', '96', '--batch-size', '4', '--local-crops', '2',
      '--max-steps', '1', '--nproc', '2', '--out', join(dir, 'run-dino'));
    assert.equal(dino.status, 0, dino.stderr);
    assert.match(dino.stderr, /streaming 9 photos/);
  });
});

describe('every method, backbone and size the CLI accepts', () => {
  test('takes a step on streamed photos, or is refused before any work naming the option', async () => {
    const photos = StreamedImages.fromFolder(ImageFolder.scan(await photoFolder('matrix', 4), { labels: 'subfolders' }));
    const normalize = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    const backbones = [['resnet18', undefined], ['vit_tiny', 16], ['vit_tiny', 8]] as const;
    const refused: string[] = [];
    let ran = 0;
    for (const method of METHOD_NAMES) {
      for (const [backbone, patch] of backbones) {
        for (const size of [32, 64, 96, 128, 224]) {
          const flags: Record<string, string | boolean> = {
            method, backbone, size: String(size), data: 'photos', out: 'run', 'batch-size': '2', 'local-crops': '1', ...(patch ? {} : { width: '0.25' }),
            ...(patch ? { 'patch-size': String(patch) } : {}), ...(method === 'beit' ? { tokenizer: 'tokenizer.bin' } : {}),
          };
          let config;
          try {
            config = readPretrainConfig(flags);
          } catch (error) {
            assert.match((error as Error).message, /^bad configuration:\n(backbone|size|patchSize): /, `${method} ${backbone}/${patch} ${size}`);
            refused.push(`${method}/${backbone}/${patch}/${size}`);
            continue;
          }
          // what `selfsup pretrain` builds (pretrain.ts), and one training step on a streamed batch
          const views = pretrainViews(config, size, normalize);
          const loader = new DataLoader(photos, { batchSize: 2, views, workers: 0, seed: 0 });
          const batch = await loader.next();
          await loader.close();
          const generator = new Generator(0);
          // one block: a ViT's shapes are the same at any depth (twelve take 90 s here, one 12 s)
          const spec = pretrainBackboneSpec(config, size);
          const { backbone: net, featureDim } = buildBackbone(patch ? { ...spec, depth: 1 } : spec, generator);
          const p = patch ?? 4;
          const tokenizer = method === 'beit' ? new KMeansTokenizer(randn([8, 3 * p * p], { generator }), p, normalize) : undefined;
          const model = buildMethod(method, net, featureDim, { ...methodOptions(config, normalize), tokenizer, hiddenDim: 32, projectionDim: 16, prototypes: 16, queueSize: 8, numClasses: 2 }, generator);
          // the forward pass and loss (backward through every method is the methods tests'; here: the shapes of each combination)
          const loss = noGrad(() => tidy(() => model.step(batch.views, batch.mask, batch.labels).loss.item()));
          assert.ok(Number.isFinite(loss), `${method} ${backbone}/${patch} ${size}: loss ${loss}`);
          model.dispose();
          tokenizer?.dispose();
          for (const v of batch.views) v.dispose();
          batch.mask?.dispose();
          batch.labels?.dispose();
          ran++;
        }
      }
    }
    // refused: only the ViT-only methods on a ResNet (every size here is a multiple of both patches)
    assert.deepEqual(refused.sort(), ['beit', 'dinov2', 'ibot', 'ijepa', 'mae'].flatMap((m) => [32, 64, 96, 128, 224].map((s) => `${m}/resnet18/undefined/${s}`)).sort());
    assert.equal(ran, METHOD_NAMES.length * 15 - refused.length);
  });
});
