/**
 * `npm run bench -- photos`: the SimCLR two-view pipeline at 224 px from full-size photos (decode
 * + random resized crop from the original + flip + colour jitter + grayscale + blur + normalise),
 * selfsup's streaming loader against torchvision's ImageFolder + the same transforms on PIL with a
 * DataLoader of the same number of workers (bench/peers/augment.py), in alternating rounds; and the
 * same loader reading a pack made by `selfsup pack` (`pack_img_per_s`). Both sides decode every
 * photo every epoch and warm up with one whole epoch.
 *
 * `--files 100000`: memory while streaming from a folder of that many entries (symbolic links to
 * the 300 photos): the peak RSS of a process that iterates `--batches` batches (default 2,000),
 * beside the same with 1,000 entries, each in a process of its own.
 *
 * The photos are ../shared/data/imagenet-sample-300.tar (300 ImageNet photos, median 500x375),
 * unpacked once into bench/.cache; the benchmark says so and stops where it is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataLoader, ImageFolder, StreamedImages, writePhotoPack } from '../src/data/index.js';
import { methodViews } from '../src/methods/index.js';
import { oursEpochs } from './augment.js';
import { cacheDir } from './cifarJpegs.js';
import { TCMALLOC, runPeer } from './peer.js';
import { median, round } from './sideBySide.js';

const archive = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'data', 'imagenet-sample-300.tar');

export interface PhotosBenchOptions {
  workers: number;
  batch: number;
  size: number;
  epochs: number;
  rounds: number;
  peer: boolean;
  /** memory mode: a folder of this many entries (0: the speed comparison) */
  files: number;
  batches: number;
}

/** The folder holding the photos' class folder (torchvision's ImageFolder needs one), unpacked once. */
function photoRoot(): string {
  const out = join(cacheDir, 'imagenet-sample-300');
  if (existsSync(join(out, 'imagenet-sample'))) return out;
  if (!existsSync(archive)) throw new Error(`${archive} is absent: the photos benchmark needs it (it exists on the project's machines and CI only)`);
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  execFileSync('tar', ['xf', archive, '-C', temp]);
  renameSync(temp, out);
  return out;
}

/** A folder of `count` symbolic links cycling over the photos (made once). */
function linkedFolder(count: number): string {
  const source = join(photoRoot(), 'imagenet-sample');
  const photos = readdirSync(source).sort();
  const out = join(cacheDir, `photo-links-${count}`);
  if (existsSync(out)) return out;
  const temp = `${out}.partial`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  for (let i = 0; i < count; i++) {
    const sub = join(temp, String(Math.floor(i / 1000)).padStart(4, '0'));
    if (i % 1000 === 0) mkdirSync(sub);
    symlinkSync(join(source, photos[i % photos.length]), join(sub, `${String(i).padStart(7, '0')}.jpg`));
  }
  renameSync(temp, out);
  return out;
}

async function peakRss(folder: string, o: PhotosBenchOptions): Promise<{ rss_mb_max: number; rss_mb_start: number; img_per_s: number; files: number }> {
  const images = StreamedImages.fromFolder(ImageFolder.scan(folder, { labels: 'none' }));
  const loader = new DataLoader(images, { batchSize: o.batch, views: methodViews('simclr', { size: o.size }), workers: o.workers, seed: 0 });
  const start = process.memoryUsage().rss;
  let max = start;
  const t0 = performance.now();
  for (let i = 0; i < o.batches; i++) {
    const b = await loader.next();
    for (const v of b.views) v.dispose();
    max = Math.max(max, process.memoryUsage().rss);
    if (i % 200 === 0) process.stderr.write(`photos memory: ${images.length} files, batch ${i}/${o.batches}, rss ${(max / 2 ** 20).toFixed(0)} MB\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await loader.close();
  return { files: images.length, rss_mb_start: round(start / 2 ** 20, 1), rss_mb_max: round(max / 2 ** 20, 1), img_per_s: round((o.batches * o.batch) / seconds, 1) };
}

export async function photosBench(o: PhotosBenchOptions): Promise<Record<string, unknown>> {
  if (o.files > 0) {
    // each count in its own process, so neither starts from the other's memory
    const measure = (files: number) => {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), linkedFolder(files), JSON.stringify(o)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      return JSON.parse(out) as Awaited<ReturnType<typeof peakRss>>;
    };
    const many = measure(o.files);
    const few = measure(1000);
    return {
      batch: o.batch, size: o.size, workers: o.workers, batches: o.batches, files: o.files,
      rss_mb_max: many.rss_mb_max, rss_mb_max_1000_files: few.rss_mb_max, rss_ratio_vs_1000_files: round(many.rss_mb_max / few.rss_mb_max, 3),
      runs: [many, few],
    };
  }
  const root = photoRoot();
  const images = StreamedImages.fromFolder(ImageFolder.scan(join(root, 'imagenet-sample')));
  const views = methodViews('simclr', { size: o.size });
  const pack = join(cacheDir, 'imagenet-sample-300-320.pack');
  const packStart = performance.now();
  rmSync(pack, { force: true });
  await writePhotoPack(ImageFolder.scan(join(root, 'imagenet-sample')), pack, { maxSide: 320 });
  const packSeconds = (performance.now() - packStart) / 1000;
  const packed = StreamedImages.fromPack(pack);
  const ours: number[] = [];
  const peer: number[] = [];
  const packRates: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const loader = new DataLoader(images, { batchSize: o.batch, views, workers: o.workers, seed: r });
    ours.push(await oursEpochs(loader, o.epochs));
    await loader.close();
    const packLoader = new DataLoader(packed, { batchSize: o.batch, views, workers: o.workers, seed: r });
    packRates.push(await oursEpochs(packLoader, o.epochs));
    await packLoader.close();
    if (o.peer) peer.push(runPeer('augment.py', [root, String(o.size), String(o.batch), String(o.workers), String(o.epochs), '1'], { LD_PRELOAD: TCMALLOC }).img_per_s as number);
  }
  const result: Record<string, unknown> = {
    photos: images.length, size: o.size, batch: o.batch, workers: o.workers, epochs: o.epochs,
    img_per_s: round(median(ours), 1), rounds: ours.map((v) => round(v, 1)),
    pack_img_per_s: round(median(packRates), 1), pack_rounds: packRates.map((v) => round(v, 1)),
    pack_max_side: 320, pack_mb: round(statSync(pack).size / 2 ** 20, 1), pack_write_s: round(packSeconds, 2),
  };
  if (o.peer) {
    result.peer_img_per_s = round(median(peer), 1);
    result.peer_rounds = peer.map((v) => round(v, 1));
    result.ratio_vs_torchvision = round(median(ours.map((v, i) => v / peer[i])), 2);
  }
  return result;
}

// `node dist/bench/photos.js <folder> <options JSON>`: one peak-RSS measurement, in a process of its own
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await peakRss(process.argv[2], JSON.parse(process.argv[3]) as PhotosBenchOptions)));
}
