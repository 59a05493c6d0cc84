/**
 * `selfsup tokenizer train --data <spec> --out tok.safetensors`: trains BEiT's visual tokenizer on
 * unlabeled images, a VQ-VAE (default; through the trainer, so with progress, checkpoints, resume and
 * curves of reconstruction error, codebook perplexity and usage) or k-means over patches
 * (`--kind kmeans`, seconds). Writes the tokenizer, a PNG of originals over their reconstructions
 * from the tokens, and reports reconstruction error, perplexity and codebook use on held-out images.
 */
import { join } from 'node:path';
import { type ImageArray, channelStats, openImages } from '../data/index.js';
import { imageGrid, writePng } from '../io/index.js';
import { TokenizerTraining } from '../methods/index.js';
import { Generator, type Tensor, mseLoss, noGrad, tidy, zeros } from '../tensor/index.js';
import { KMeansTokenizer, type Normalization, type VisualTokenizer, VQTokenizer, codeCounts, codebookUsage, samplePatches } from '../tokenizers/index.js';
import { pretrain } from '../train/index.js';
import { CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD, type ViewConfig, applyView, denormalize } from '../transforms/index.js';
import { UsageError, applyThreadsOption, checkOutputPaths, choiceOption, integerOption, numberOption, parseOptions, perCoreOption, requireString } from './options.js';

export const TOKENIZER_USAGE = `usage: selfsup tokenizer train --data <spec> --out tok.safetensors [options]

  --kind <k>          vqvae (default: a VQ-VAE with EMA codebook and dead-code restarts) or kmeans
  --codebook <K>      vocabulary size (default 8192)
  --patch-size <p>    pixels per token side, the ViT's patch size (default 4 for images <= 64 px, else 16)
  --size <px>         image side (default: the images' side)
  --normalize <n>     data (default), imagenet or cifar10
  --test <spec>       held-out images for the report (default: the first 1000 training images)
  vqvae: --epochs <n> (default 10) --batch-size <n> (128) --lr <r> (2e-3, AdamW) --max-steps <n>
         --code-dim <d> (32) --update ema|gradient --workers <n>
         --resume (continue <out>.run/) or --overwrite (replace it; without either an existing one is refused)
  kmeans: --samples <n> patches (default 200000) --iterations <n> (20)
  --seed <n>  --threads <n>
Writes <out>, <out minus .safetensors>.preview.png and, for vqvae, the run folder <out>.run/.`;

const eye = (normalize: Normalization, size: number): ViewConfig => ({ size, crop: 'center', normalize });

/** Reconstruction error (normalised units), perplexity and codebook use over up to 1000 images. */
function report(tok: VisualTokenizer, images: ImageArray, size: number): { mse: number; perplexity: number; used: number } {
  return tidy(() => noGrad(() => {
    const count = Math.min(1000, images.length);
    let squared = 0;
    const counts = zeros([tok.vocabulary]);
    for (let start = 0; start < count; start += 250) {
      const x = applyView(images.batch(Array.from({ length: Math.min(250, count - start) }, (_, i) => start + i)), eye(tok.normalize, size));
      const ids = tok.tokenize(x);
      squared += mseLoss(tok.decode(ids), x).item() * x.size(0);
      counts.add_(codeCounts(ids, tok.vocabulary));
    }
    return { mse: squared / count, ...codebookUsage(counts) };
  }));
}

async function writePreview(file: string, tok: VisualTokenizer, images: ImageArray, size: number): Promise<void> {
  const grid = tidy(() => noGrad(() => {
    const x = applyView(images.batch(images.spread(8)), eye(tok.normalize, size));
    const pixels = (t: Tensor) => denormalize(t, tok.normalize.mean, tok.normalize.std).clamp(0, 1);
    return imageGrid([pixels(x), pixels(tok.decode(tok.tokenize(x)))], Math.max(96, size));
  }));
  await writePng(file, grid);
  grid.dispose();
}

export async function tokenizerCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action !== 'train') throw new UsageError(`expected 'train', got '${action ?? ''}'`);
  const v = parseOptions(rest, {
    data: { type: 'string' }, out: { type: 'string' }, kind: { type: 'string' }, codebook: { type: 'string' }, 'patch-size': { type: 'string' },
    size: { type: 'string' }, normalize: { type: 'string' }, test: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' },
    lr: { type: 'string' }, 'max-steps': { type: 'string' }, 'code-dim': { type: 'string' }, update: { type: 'string' }, resume: { type: 'boolean' }, overwrite: { type: 'boolean' },
    workers: { type: 'string' }, samples: { type: 'string' }, iterations: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
  });
  const data = requireString(v, 'data');
  const out = requireString(v, 'out');
  if (!out.endsWith('.safetensors')) throw new UsageError(`--out must name a .safetensors file, got '${out}'`);
  checkOutputPaths(out, out.replace(/\.safetensors$/, '.preview.png'));
  const kind = choiceOption(v, 'kind', ['vqvae', 'kmeans'] as const, 'vqvae');
  const vocabulary = integerOption(v, 'codebook', 8192, 2);
  const seed = integerOption(v, 'seed', 0, 0);
  const normalizeChoice = choiceOption(v, 'normalize', ['data', 'imagenet', 'cifar10'] as const, 'data');
  const update = choiceOption(v, 'update', ['ema', 'gradient'] as const, 'ema');
  const epochs = integerOption(v, 'epochs', 10);
  const batchSize = integerOption(v, 'batch-size', 128, 2);
  const lr = numberOption(v, 'lr', 2e-3);
  const samples = integerOption(v, 'samples', 200_000);
  const iterations = integerOption(v, 'iterations', 20);
  applyThreadsOption(v);
  const images = await openImages(data, v.size === undefined ? {} : { size: integerOption(v, 'size', 32) });
  const size = integerOption(v, 'size', Math.min(images.height, images.width));
  const patchSize = integerOption(v, 'patch-size', size <= 64 ? 4 : 16);
  if (size % patchSize !== 0) throw new UsageError(`--patch-size ${patchSize} must divide the image side ${size}`);
  const heldOut = typeof v.test === 'string' ? await openImages(v.test, { size }) : images;
  const normalize = normalizeChoice === 'data' ? channelStats(images)
    : normalizeChoice === 'cifar10' ? { mean: CIFAR10_MEAN, std: CIFAR10_STD } : { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const generator = new Generator(seed);

  let tok: VisualTokenizer;
  if (kind === 'kmeans') {
    const rows = samplePatches(images, { patchSize, size, normalize, samples });
    tok = KMeansTokenizer.fit(rows, {
      patchSize, vocabulary, normalize, iterations, generator,
      onIteration: (i, inertia) => process.stderr.write(`k-means iteration ${i + 1}/${iterations}: mean squared distance ${inertia.toFixed(4)}\n`),
    });
    rows.dispose();
  } else {
    if (vocabulary > 65536) throw new UsageError(`--codebook ${vocabulary}: at most 65536 codes for a VQ-VAE`);
    const vq = new VQTokenizer({ patchSize, vocabulary, normalize, update, codeDim: integerOption(v, 'code-dim', 32), generator });
    const training = new TokenizerTraining(vq);
    const view: ViewConfig = { size, crop: { scale: [0.5, 1] }, horizontalFlip: 0.5, normalize };
    const summary = await pretrain(training, images, { views: [view] }, {
      out: `${out}.run`, epochs, batchSize, seed, resume: v.resume === true, overwrite: v.overwrite === true, maxSteps: v['max-steps'] === undefined ? undefined : integerOption(v, 'max-steps', 1),
      workers: v.workers === undefined ? undefined : perCoreOption(v, 'workers', 1, 0),
      optimizer: { name: 'adamw', lr, weightDecay: 0, warmupEpochs: Math.min(1, epochs / 10) },
      config: { tokenizer: { kind, vocabulary, patchSize, size, normalize, update } },
    });
    vq.eval();
    process.stderr.write(`tokenizer training: loss ${summary.firstLoss.toFixed(4)} -> ${summary.lastLoss.toFixed(4)} in ${summary.steps} steps; curves in ${join(`${out}.run`, 'metrics.jsonl')}\n`);
    tok = vq;
  }
  tok.save(out);
  const preview = out.replace(/\.safetensors$/, '.preview.png');
  await writePreview(preview, tok, heldOut, size);
  const r = report(tok, heldOut, size);
  console.log(`wrote ${out} (${kind}, ${vocabulary} codes, ${patchSize}x${patchSize} patches) and ${preview}; ` +
    `${typeof v.test === 'string' ? 'held-out' : 'training'} images: reconstruction MSE ${r.mse.toFixed(4)}, perplexity ${r.perplexity.toFixed(1)}, ` +
    `codes used ${(100 * r.used).toFixed(1)}%`);
  tok.dispose();
}
