/**
 * `selfsup preview --data <spec> --method simclr --out views.png`: a PNG grid of a few images and
 * the views (and masks) a method's recipe makes of them. With `--checkpoint` of an MAE run: each
 * image, its masked version, MAE's reconstruction, and the reconstruction with the visible patches.
 */
import { openImages } from '../data/index.js';
import { imageGrid, writePng } from '../io/index.js';
import { MAE, methodViews, VIEW_PRESETS } from '../methods/index.js';
import { Generator, type Tensor, noGrad, tidy } from '../tensor/index.js';
import { type Domain, applyView, denormalize, previewColumns, randomPatchMask } from '../transforms/index.js';
import { loadRunMethod } from '../runs/index.js';
import { choiceOption, integerOption, parseOptions, requireString } from './options.js';

export const PREVIEW_USAGE = `usage: selfsup preview --data <spec> --method <name> --out views.png [options]

  --data <spec>     a folder of images, a CSV, cifar10:<dir>, stl10:<dir>, fashion-mnist, ...
  --method <name>   ${VIEW_PRESETS.join(', ')}
  --checkpoint <f>  an MAE run's checkpoint: show its reconstructions instead of views
  --out <file>      the PNG to write
  --size <px>       view side (default: the images' side, 32 for CIFAR)
  --count <n>       images, one per row (default 8)
  --domain <d>      natural, grayscale or aerial (default natural)
  --local-crops <n> DINO local crops (default 6)
  --seed <n>        (default 0)`;

export async function preview(argv: string[]): Promise<void> {
  const values = parseOptions(argv, {
    data: { type: 'string' }, method: { type: 'string' }, out: { type: 'string' }, size: { type: 'string' },
    count: { type: 'string' }, domain: { type: 'string' }, 'local-crops': { type: 'string' }, seed: { type: 'string' },
    checkpoint: { type: 'string' },
  });
  if (typeof values.checkpoint === 'string') return previewReconstructions(values.checkpoint, values);
  const data = requireString(values, 'data');
  const method = choiceOption(values, 'method', VIEW_PRESETS, 'simclr');
  const out = requireString(values, 'out');
  const count = integerOption(values, 'count', 8);
  const domain = choiceOption<Domain>(values, 'domain', ['natural', 'grayscale', 'aerial'], 'natural');
  const seed = integerOption(values, 'seed', 0, 0);
  const localCrops = integerOption(values, 'local-crops', 6, 0);
  const images = await openImages(data, values.size === undefined ? {} : { size: integerOption(values, 'size', 32) });
  const size = integerOption(values, 'size', Math.min(images.height, images.width));
  const set = methodViews(method, { size, domain, localCrops });
  const shown = images.spread(count);
  const grid = tidy(() => imageGrid(previewColumns(images.batch(shown), set, seed), Math.max(96, size)));
  await writePng(out, grid);
  grid.dispose();
  const columns = ['original', ...set.views.map((v, i) => `view ${i + 1} (${v.size}px)`), ...(set.mask ? ['masked'] : [])];
  console.log(`wrote ${out}: ${shown.length} images x [${columns.join(', ')}]`);
}

/** Rows of [original, masked, reconstruction, reconstruction + visible patches] from an MAE checkpoint. */
async function previewReconstructions(checkpoint: string, values: Record<string, string | boolean | undefined>): Promise<void> {
  const data = requireString(values, 'data');
  const out = requireString(values, 'out');
  const count = integerOption(values, 'count', 8);
  const seed = integerOption(values, 'seed', 0, 0);
  const { method, run } = loadRunMethod(checkpoint);
  try {
    if (!(method instanceof MAE)) throw new Error(`${checkpoint}: a ${run.method} run; reconstructions need an MAE run`);
    method.eval();
    const images = await openImages(data, { size: run.size });
    const shown = images.spread(count);
    const view = { size: run.size, crop: 'center' as const, normalize: run.normalize };
    const grid = tidy(() => noGrad(() => {
      const x = applyView(images.batch(shown), view); // [N, 3, s, s], normalised
      const patches = method.backbone.gridSize ** 2;
      const mask = randomPatchMask(shown.length, patches, method.maskRatio, new Generator(seed)).mask;
      const { masked, predicted, pasted } = method.reconstructImages(x, mask);
      const toPixels = (t: Tensor) => denormalize(t, run.normalize.mean, run.normalize.std).clamp(0, 1);
      return imageGrid([x, masked, predicted, pasted].map(toPixels), Math.max(96, run.size));
    }));
    await writePng(out, grid);
    grid.dispose();
    console.log(`wrote ${out}: ${shown.length} images x [original, masked ${Math.round(100 * method.maskRatio)}%, reconstruction, reconstruction + visible]`);
  } finally {
    method.dispose();
  }
}
