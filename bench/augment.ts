/**
 * `npm run bench -- augment`: SimCLR two-view augmentation of real CIFAR-10 JPEGs at 32x32 and of
 * the same images as 96x96 JPEGs, images/s (two views each), ours (ImageFolder + DataLoader worker
 * threads) side by side with torchvision + PIL (ImageFolder + DataLoader workers, bench/peers/augment.py)
 * on the same files, the same cores. Ours decodes once and keeps the pixels (the decoded-image
 * cache); torchvision decodes every epoch. The headline ratio compares like with like, an epoch that
 * decodes every file on both sides; the cached rate is reported beside it. Both sides warm up with
 * one whole epoch, so no batch prefetched by the warm-up is made inside the timed window.
 */
import { DataLoader, ImageFolder } from '../src/data/index.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../src/transforms/index.js';
import { methodViews } from '../src/methods/index.js';
import { cifarJpegSubset, resizedJpegSubset } from './cifarJpegs.js';
import { TCMALLOC, runPeer } from './peer.js';
import { median, round } from './sideBySide.js';

export interface AugmentBenchOptions {
  perClass: number;
  batch: number;
  workers: number;
  epochs: number;
  rounds: number;
  peer: boolean;
}

/** Images/s of a loader over `epochs` epochs after a whole warm-up epoch (nothing left in flight). */
export async function oursEpochs(loader: DataLoader, epochs: number): Promise<number> {
  for await (const batch of loader.epoch()) disposeViews(batch); // warm-up: one whole epoch, nothing left in flight
  let count = 0;
  const start = performance.now();
  for (let e = 0; e < epochs; e++) {
    for await (const batch of loader.epoch()) {
      count += batch.indices.length;
      disposeViews(batch);
    }
  }
  return count / ((performance.now() - start) / 1000);
}

function disposeViews(b: { views: { dispose(): void }[]; labels: { dispose(): void } | null }): void {
  for (const v of b.views) v.dispose();
  b.labels?.dispose();
}

export async function augmentBench(o: AugmentBenchOptions): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { workers: o.workers, batch: o.batch, images: o.perClass * 10 };
  const ratios: number[] = [];
  for (const size of [32, 96]) {
    const folder = size === 32 ? cifarJpegSubset('train', o.perClass) : await resizedJpegSubset('train', o.perClass, size);
    const decodeStart = performance.now();
    const images = await ImageFolder.scan(folder).load();
    const decodeS = (performance.now() - decodeStart) / 1000;
    const views = methodViews('simclr', { size, normalize: { mean: CIFAR10_MEAN, std: CIFAR10_STD } });
    const ours: number[] = [];
    const peer: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const loader = new DataLoader(images, { batchSize: o.batch, views, workers: o.workers, seed: r });
      ours.push(await oursEpochs(loader, o.epochs));
      await loader.close();
      if (o.peer) {
        const run = runPeer('augment.py', [folder, String(size), String(o.batch), String(o.workers), String(o.epochs), size > 64 ? '1' : '0'], { LD_PRELOAD: TCMALLOC });
        peer.push(run.img_per_s as number);
      }
    }
    const steady = median(ours);
    // An epoch that also decodes every file (the first one; torchvision's every one).
    const withDecode = images.length / (decodeS + images.length / steady);
    const row: Record<string, unknown> = { img_per_s: round(steady, 1), img_per_s_decoding: round(withDecode, 1), decode_s: round(decodeS, 2), rounds: ours.map((v) => round(v, 1)) };
    if (o.peer) {
      const p = median(peer);
      row.peer_img_per_s = round(p, 1);
      row.peer_rounds = peer.map((v) => round(v, 1));
      row.ratio_vs_torchvision = round(withDecode / p, 2);
      row.ratio_cached_vs_torchvision = round(steady / p, 2);
      ratios.push(withDecode / p);
    }
    result[`simclr_${size}px`] = row;
  }
  // both decoding every file each epoch: the lower of the two sizes
  if (ratios.length > 0) result.ratio_vs_torchvision = round(Math.min(...ratios), 2);
  return result;
}
