/**
 * `selfsup preview --data <spec> --method simclr --out views.png`: a PNG grid of a few images and
 * the views (and masks) a method's recipe makes of them.
 */
import { openImages } from '../data/index.js';
import { imageGrid, writePng } from '../io/index.js';
import { tidy } from '../tensor/index.js';
import { type Domain, VIEW_PRESETS, methodViews, previewColumns } from '../transforms/index.js';
import { choiceOption, integerOption, parseOptions, requireString } from './options.js';

export const PREVIEW_USAGE = `usage: selfsup preview --data <spec> --method <name> --out views.png [options]

  --data <spec>     a folder of images, a CSV, cifar10:<dir>, stl10:<dir>, fashion-mnist, ...
  --method <name>   ${VIEW_PRESETS.join(', ')}
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
  });
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
  const shown = Array.from({ length: Math.min(count, images.length) }, (_, i) => Math.floor((i * images.length) / Math.min(count, images.length)));
  const grid = tidy(() => imageGrid(previewColumns(images.batch(shown), set, seed), Math.max(96, size)));
  await writePng(out, grid);
  grid.dispose();
  const columns = ['original', ...set.views.map((v, i) => `view ${i + 1} (${v.size}px)`), ...(set.mask ? ['masked'] : [])];
  console.log(`wrote ${out}: ${shown.length} images x [${columns.join(', ')}]`);
}
