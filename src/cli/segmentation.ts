/**
 * `selfsup eval segmentation --checkpoint <run> --data synthetic|<dir> [--test <dir>]`: the linear
 * segmentation probe on the run's frozen dense features, mIoU per class. `synthetic` makes the
 * deterministic shapes set at the run's image size (train and test from different seeds); a folder
 * holds `images/` and `masks/` (class ids in the mask PNGs). `--picture` draws image / true mask /
 * predicted mask rows.
 */
import { type SegmentationSet, readSegmentationFolder, syntheticSegmentation } from '../data/index.js';
import { segmentationProbe } from '../eval/index.js';
import { imageGrid, writePng, writeTextFile } from '../io/index.js';
import { type Tensor, tensor, tidy } from '../tensor/index.js';
import { methodViews } from '../methods/index.js';
import { applyThreadsOption, integerOption, numberOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from '../runs/index.js';

export const SEGMENTATION_USAGE = `usage: selfsup eval segmentation --checkpoint <file> --data synthetic|<dir> [--test <dir>] [options]

  --data synthetic   discs, squares and triangles on textured backgrounds (--count training images, a fifth as many test)
  --data <dir>       a folder with images/ and masks/ (<name>.png holding a class id per pixel); --test <dir> the same
  --epochs <n> (20)  --lr <x> (1e-3)  --count <n> (1000)  --picture <file.png>  --out <file.json>  --threads <n>`;

/** Class ids [N, H, W] as colours [N, 3, H, W] (a fixed palette, background black). */
function paint(ids: Tensor, classes: number): Tensor {
  return tidy(() => {
    const palette = tensor(Array.from({ length: classes }, (_, c) => (c === 0 ? [0, 0, 0] : [((c * 97) % 255) / 255, ((c * 57 + 80) % 255) / 255, ((c * 151 + 160) % 255) / 255])));
    return palette.index([ids.long()]).permute(0, 3, 1, 2);
  });
}

export async function segmentationCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    checkpoint: { type: 'string' }, data: { type: 'string' }, test: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' },
    count: { type: 'string' }, picture: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' },
  });
  const [checkpoint, data] = [requireString(v, 'checkpoint'), requireString(v, 'data')];
  applyThreadsOption(v);
  const { backbone, run } = loadRunBackbone(checkpoint);
  try {
    let train: SegmentationSet;
    let test: SegmentationSet;
    if (data === 'synthetic') {
      const count = integerOption(v, 'count', 1000);
      const seed = integerOption(v, 'seed', 0, 0);
      train = syntheticSegmentation(count, { size: run.size, seed: 2 * seed });
      test = syntheticSegmentation(Math.max(1, Math.round(count / 5)), { size: run.size, seed: 2 * seed + 1 });
    } else {
      train = await readSegmentationFolder(data, { size: run.size });
      test = await readSegmentationFolder(requireString(v, 'test'), { size: run.size, classes: train.classes });
    }
    const numClasses = Math.max(train.classes.length, test.classes.length);
    const view = methodViews('eval', { size: run.size, normalize: run.normalize }).views[0];
    const result = segmentationProbe(backbone, train, test, { view, numClasses, epochs: integerOption(v, 'epochs', 20), lr: numberOption(v, 'lr', 1e-3), seed: integerOption(v, 'seed', 0, 0) });
    result.head.dispose();
    const classes = train.classes.length >= numClasses ? train.classes : test.classes;
    console.log(`segmentation probe: mIoU ${(100 * result.mIoU).toFixed(2)}%, pixel accuracy ${(100 * result.pixelAccuracy).toFixed(2)}% (${train.images.length} training, ${test.images.length} test images)`);
    console.log(result.iou.map((iou, c) => `  ${(classes[c] ?? `class ${c}`).padEnd(12)} IoU ${Number.isFinite(iou) ? `${(100 * iou).toFixed(1)}%` : 'absent'}`).join('\n'));
    if (typeof v.picture === 'string') {
      const shown = test.images.spread(6);
      const [h, w] = [test.images.height, test.images.width];
      const grid = tidy(() => {
        const masks = (bytes: Uint8Array) => tensor(bytes, { shape: [test.images.length, h, w], dtype: 'uint8' }).index([tensor(shown, { dtype: 'int64' })]);
        return imageGrid([test.images.batch(shown).float().div(255), paint(masks(test.masks), numClasses), paint(masks(result.predictions), numClasses)], Math.max(64, run.size));
      });
      await writePng(v.picture, grid);
      grid.dispose();
      console.log(`wrote ${v.picture}: ${shown.length} test images x [image, true mask, predicted mask]`);
    }
    if (typeof v.out === 'string') {
      writeTextFile(v.out, JSON.stringify({ kind: 'segmentation', checkpoint, data, classes, mIoU: result.mIoU, pixelAccuracy: result.pixelAccuracy, iou: result.iou.map((x) => (Number.isFinite(x) ? x : null)), losses: result.losses }, null, 2) + '\n');
    }
  } finally {
    backbone.dispose();
  }
}
