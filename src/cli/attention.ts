/**
 * `selfsup attention --checkpoint <run> --images <spec> --out attn.png`: for a few images, the last
 * block's [CLS] attention of a ViT run, one heat map per head laid over the image, their mean, and
 * the patches holding 60% of the mean attention (DINO's Fig. 3 picture).
 */
import { openImages } from '../data/index.js';
import { attentionMassMask, clsAttention, stretchToImage } from '../eval/index.js';
import { imageGrid, overlayHeatmap, writePng } from '../io/index.js';
import { VisionTransformer } from '../models/index.js';
import { interpolate, tidy } from '../tensor/index.js';
import { applyView, denormalize } from '../transforms/index.js';
import { applyThreadsOption, integerOption, numberOption, parseOptions, requireString } from './options.js';
import { loadRunBackbone } from '../runs/index.js';

export const ATTENTION_USAGE = `usage: selfsup attention --checkpoint <file> --images <spec> --out attn.png [options]

  --checkpoint <f>  a ViT run's checkpoint (DINO, iBOT, MoCo v3, MAE, BEiT, ...)
  --images <spec>   a folder of images, a CSV, cifar10:<dir>, ... (evenly spaced ones are shown)
  --out <file>      the PNG: per image [image, mean over heads, each head, top 60% of the attention]
  --count <n>       images, one per row (default 8)
  --size <px>       the side they are shown at (default: the run's; a multiple of the patch size)
  --share <s>       the attention mass the mask column keeps (default 0.6)
  --threads <n>`;

export async function attentionCommand(argv: string[]): Promise<void> {
  const v = parseOptions(argv, {
    checkpoint: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' }, count: { type: 'string' },
    size: { type: 'string' }, share: { type: 'string' }, threads: { type: 'string' },
  });
  const [checkpoint, spec, out] = [requireString(v, 'checkpoint'), requireString(v, 'images'), requireString(v, 'out')];
  applyThreadsOption(v);
  const share = numberOption(v, 'share', 0.6);
  const { backbone, run } = loadRunBackbone(checkpoint);
  try {
    if (!(backbone instanceof VisionTransformer)) throw new Error(`${checkpoint}: attention maps need a ViT run; this run's backbone is ${run.backboneSpec.name}`);
    const size = integerOption(v, 'size', run.size);
    if (size % backbone.patchSize !== 0) throw new Error(`--size ${size}: must be a multiple of the ViT's patch size ${backbone.patchSize}`);
    backbone.eval();
    const images = await openImages(spec, { size });
    const shown = images.spread(integerOption(v, 'count', 8));
    let heads = 0;
    const grid = tidy(() => {
      const x = applyView(images.batch(shown), { size, crop: 'center', normalize: run.normalize }); // [N, 3, s, s]
      const pixels = denormalize(x, run.normalize.mean, run.normalize.std).clamp(0, 1);
      const attention = clsAttention(backbone, x);                                                 // [N, heads, h, w]
      const mean = attention.mean(1, true);                                                        // [N, 1, h, w]
      heads = attention.size(1);
      const maps = stretchToImage(attention, [size, size]);                                        // [N, heads, s, s]
      const perHead = Array.from({ length: heads }, (_, i) => overlayHeatmap(pixels, maps.narrow(1, i, 1)));
      const kept = pixels.mul(interpolate(attentionMassMask(mean, share), [size, size], 'nearest'));
      return imageGrid([pixels, overlayHeatmap(pixels, stretchToImage(mean, [size, size])), ...perHead, kept], Math.max(96, size));
    });
    await writePng(out, grid);
    grid.dispose();
    console.log(`wrote ${out}: ${shown.length} images x [image, mean of ${heads} heads, ${Array.from({ length: heads }, (_, i) => `head ${i + 1}`).join(', ')}, top ${Math.round(100 * share)}% of the attention]`);
  } finally {
    backbone.dispose();
  }
}
