/**
 * A VQ-VAE visual tokenizer (van den Oord et al., 2017, "Neural Discrete Representation
 * Learning"): a convolutional encoder maps each p x p patch to a vector z, which is replaced by its
 * nearest codebook entry e (the patch's token id); a decoder rebuilds the image from the entries.
 * Gradients pass the quantiser by the straight-through estimator; the loss is
 * ||x - decode(e)||^2 + beta ||z - sg(e)||^2 (beta = 0.25, the commitment term, Eq. 3).
 * The codebook follows the encoder either by exponential moving averages of the vectors assigned
 * to each code (App. A.1; decay 0.99, Laplace smoothing) or by its own gradient term
 * ||sg(z) - e||^2 (`update: 'gradient'`). Encoder outputs and codes are l2-normalised by default
 * (lookup by cosine similarity, Yu et al., 2022, ViT-VQGAN). The codebook starts from encoder
 * outputs of the first batch, and codes whose recent usage (EMA with decay 0.9) falls below one
 * vector per batch (or a quarter of the mean share of a code, for codebooks larger than a batch's
 * vectors) are restarted on random encoder outputs (Dhariwal et al., 2020, Jukebox, Sec. 2.4), so
 * that most of the vocabulary stays in use (on 32x32 images, 128 codes after 80 steps: 69% used
 * with this usage average, 34% when the codebook's own 0.99 average decided).
 *
 * ```ts
 * const tok = new VQTokenizer({ patchSize: 4, vocabulary: 512, normalize });
 * const { loss, perplexity } = tok.trainingLoss(images);   // images [B, 3, 32, 32]
 * const ids = tok.tokenize(images);                          // int64 [B, 64]
 * ```
 */
import { writeSafetensors } from '../io/index.js';
import { Conv2d, Layer, Module, ReLU, Sequential } from '../nn/index.js';
import {
  type Generator, type Tensor, embedding, interpolate, mseLoss, noGrad, normalize, ones, randperm, tidy, where, zeros,
} from '../tensor/index.js';
import { type Normalization, type VisualTokenizer, codeCounts, codebookUsage, nearestCode } from './visualTokenizer.js';

export interface VQTokenizerOptions {
  /** side of the patch one token describes (a power of 2): the encoder halves the image log2(p) times */
  patchSize: number;
  /** codebook size */
  vocabulary: number;
  normalize: Normalization;
  /** size of a code vector (default 32) */
  codeDim?: number;
  /** channels of the first convolution, doubled at each halving up to 4x (default 64) */
  hidden?: number;
  /** weight of the commitment term (default 0.25) */
  commitment?: number;
  /** l2-normalise encoder outputs and codes: lookup by cosine similarity (Yu et al., 2022, ViT-VQGAN, Sec. 3.2); default true */
  normalizeCodes?: boolean;
  /** 'ema' (default) or 'gradient' codebook updates */
  update?: 'ema' | 'gradient';
  /** EMA decay of the codebook statistics (default 0.99) */
  decay?: number;
  generator?: Generator;
}

/** Nearest-neighbour upsampling by 2 (the decoder's inverse of a strided convolution). */
class Upsample2x extends Layer {
  forward(x: Tensor): Tensor {
    return interpolate(x, [x.size(2) * 2, x.size(3) * 2], 'nearest');
  }
}

export interface VQLoss {
  loss: Tensor;
  reconstruction: number;
  perplexity: number;
  /** fraction of the codebook used in this batch */
  used: number;
  /** codes restarted after this batch */
  restarted: number;
}

export class VQTokenizer extends Module implements VisualTokenizer {
  readonly kind = 'vqvae' as const;
  readonly patchSize: number;
  readonly vocabulary: number;
  readonly normalize: Normalization;
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  /** [K, D]: a buffer moved by EMA, or a parameter */
  readonly codebook: Tensor;
  /** EMA of assignments per code [K] and of the assigned vectors' sums [K, D] */
  readonly clusterSize: Tensor;
  readonly embedSum: Tensor;
  /** 0 until the codebook has been set from data */
  readonly initialized: Tensor;
  /** a faster EMA (decay 0.9) of assignments per code [K], for finding dead codes */
  readonly usage: Tensor;
  readonly normalizeCodes: boolean;

  constructor(readonly o: VQTokenizerOptions) {
    super();
    const g = o.generator;
    const halvings = Math.log2(o.patchSize);
    if (!Number.isInteger(halvings) || halvings < 1) throw new Error(`VQTokenizer: patchSize must be a power of 2 >= 2, got ${o.patchSize}`);
    if (!(Number.isInteger(o.vocabulary) && o.vocabulary >= 2)) throw new Error(`VQTokenizer: vocabulary must be an integer >= 2, got ${o.vocabulary}`);
    this.patchSize = o.patchSize;
    this.vocabulary = o.vocabulary;
    this.normalize = o.normalize;
    this.normalizeCodes = o.normalizeCodes ?? true;
    const dim = o.codeDim ?? 32;
    const hidden = o.hidden ?? 64;
    const width = (i: number) => hidden * 2 ** Math.min(i, 2); // channels after i halvings
    const down: Layer[] = [new Conv2d(3, hidden, 3, { padding: 1, generator: g }), new ReLU()];
    for (let i = 0; i < halvings; i++) down.push(new Conv2d(width(i), width(i + 1), 4, { stride: 2, padding: 1, generator: g }), new ReLU());
    down.push(new Conv2d(width(halvings), dim, 1, { generator: g }));
    this.encoder = this.registerModule('encoder', new Sequential(...down));
    const up: Layer[] = [new Conv2d(dim, width(halvings), 3, { padding: 1, generator: g }), new ReLU()];
    for (let i = halvings; i > 0; i--) up.push(new Upsample2x(), new Conv2d(width(i), width(i - 1), 3, { padding: 1, generator: g }), new ReLU());
    up.push(new Conv2d(hidden, 3, 3, { padding: 1, generator: g }));
    this.decoder = this.registerModule('decoder', new Sequential(...up));
    const gradient = o.update === 'gradient';
    const book = zeros([o.vocabulary, dim]);
    this.codebook = gradient ? this.registerParameter('codebook', book) : this.registerBuffer('codebook', book);
    this.clusterSize = this.registerBuffer('cluster_size', zeros([o.vocabulary]));
    this.embedSum = this.registerBuffer('embed_sum', zeros([o.vocabulary, dim]));
    this.initialized = this.registerBuffer('initialized', zeros([1]));
    this.usage = this.registerBuffer('usage', zeros([o.vocabulary]));
  }

  /** Code vectors [B*h*w, D] and the grid [B, h, w] of images [B, 3, H, W]; float32 under autocast too (code search and EMA sums). */
  private encodeFlat(images: Tensor): { z: Tensor; grid: [number, number, number] } {
    return tidy(() => {
      const z = this.encoder.forward(images).float(); // [B, D, h, w]
      const [b, d, h, w] = z.shape;
      const flat = z.permute(0, 2, 3, 1).reshape(b * h * w, d);
      return { z: this.normalizeCodes ? normalize(flat, { dim: 1 }) : flat, grid: [b, h, w] as [number, number, number] };
    });
  }

  /** The code vectors of ids [M]: [M, D] (unit length when codes are normalised; a parameter's may drift). */
  private codes(ids: Tensor): Tensor {
    return tidy(() => {
      const e = embedding(this.codebook, ids);
      return this.normalizeCodes ? normalize(e, { dim: 1 }) : e;
    });
  }

  /** Nearest code of each row of z [M, D]: ids [M]. */
  private nearest(z: Tensor): Tensor {
    return tidy(() => nearestCode(z.detach(), this.codebook.detach()).ids);
  }

  private toImage(vectors: Tensor, [b, h, w]: [number, number, number]): Tensor {
    return tidy(() => this.decoder.forward(vectors.reshape(b, h, w, vectors.size(1)).permute(0, 3, 1, 2)));
  }

  tokenize(images: Tensor): Tensor {
    return noGrad(() => tidy(() => {
      const { z, grid } = this.encodeFlat(images);
      return this.nearest(z).reshape(grid[0], grid[1] * grid[2]);
    }));
  }

  decode(ids: Tensor): Tensor {
    return noGrad(() => tidy(() => {
      const [b, n] = ids.shape;
      const side = Math.round(Math.sqrt(n));
      return this.toImage(this.codes(ids.reshape(b * n)), [b, side, side]);
    }));
  }

  /** Rebuilt images (through the codebook), no gradients. */
  reconstruct(images: Tensor): Tensor {
    return tidy(() => this.decode(this.tokenize(images)));
  }

  /** One training step's loss on images [B, 3, H, W]; in training mode also moves the codebook (EMA) and restarts dead codes. */
  trainingLoss(images: Tensor): VQLoss {
    return tidy(() => {
      const { z, grid } = this.encodeFlat(images); // [M, D]
      if (this.training && this.initialized.item() === 0) this.restart(z, ones([this.vocabulary], { dtype: 'bool' }));
      const ids = this.nearest(z);
      const e = this.codes(ids); // [M, D]
      const straightThrough = z.add(e.sub(z).detach());
      const reconstruction = mseLoss(this.toImage(straightThrough, grid), images);
      let loss = reconstruction.add(mseLoss(z, e.detach()).mul(this.o.commitment ?? 0.25));
      if (this.o.update === 'gradient') loss = loss.add(mseLoss(e, z.detach()));
      const counts = codeCounts(ids, this.vocabulary);
      const usage = codebookUsage(counts);
      let restarted = 0;
      if (this.training) restarted = noGrad(() => this.updateCodebook(z.detach(), ids, counts));
      return { loss, reconstruction: reconstruction.item(), perplexity: usage.perplexity, used: usage.used, restarted };
    });
  }

  /** EMA statistics and codebook (EMA mode), then restarts codes used by less than one vector per batch. */
  private updateCodebook(z: Tensor, ids: Tensor, counts: Tensor): number {
    const decay = this.o.decay ?? 0.99;
    if (this.o.update !== 'gradient') {
      const sums = zeros(this.embedSum.shape).indexAdd(0, ids, z);
      this.clusterSize.mul_(decay).add_(counts, 1 - decay);
      this.embedSum.mul_(decay).add_(sums, 1 - decay);
      const n = this.clusterSize.sum();
      const smoothed = this.clusterSize.add(1e-5).div(n.add(this.vocabulary * 1e-5)).mul(n); // Laplace smoothing
      const means = this.embedSum.div(smoothed.unsqueeze(1));
      this.codebook.copy_(this.normalizeCodes ? normalize(means, { dim: 1 }) : means);
    } else {
      this.clusterSize.mul_(decay).add_(counts, 1 - decay);
    }
    // Dead: used by less than one vector per batch lately (or a quarter of the mean share of a code,
    // for codebooks larger than a batch's vectors). A separate, faster average than the codebook's, so
    // that a code popular early and abandoned since is found within tens of steps, not hundreds.
    this.usage.mul_(0.9).add_(counts, 0.1);
    const dead = this.usage.lt(Math.min(1, (0.25 * z.size(0)) / this.vocabulary));
    const restarted = dead.sum().item();
    if (restarted > 0) this.restart(z, dead);
    return restarted;
  }

  /** Puts the codes where `dead` [K] is true on random rows of z [M, D] (with replacement when M < K). */
  private restart(z: Tensor, dead: Tensor): void {
    noGrad(() => tidy(() => {
      const k = this.vocabulary;
      const rows = z.size(0) >= k ? randperm(z.size(0), { generator: this.o.generator }).slice(0, 0, k)
        : randperm(k, { generator: this.o.generator }).remainder(z.size(0));
      const fresh = z.detach().indexSelect(0, rows); // [K, D]
      const mask = dead.unsqueeze(1);
      this.codebook.copy_(where(mask, fresh, this.codebook));
      this.embedSum.copy_(where(mask, fresh, this.embedSum));
      this.clusterSize.copy_(where(dead, 1, this.clusterSize));
      this.usage.copy_(where(dead, 1, this.usage));
      this.initialized.fill_(1);
    }));
  }

  save(file: string): void {
    const { generator: _g, ...options } = this.o;
    writeSafetensors(file, this.stateDict(), { selfsup_tokenizer: JSON.stringify({ kind: this.kind, options }) });
  }
}
