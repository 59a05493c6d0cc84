/**
 * What BEiT needs from a visual tokenizer (Bao et al., 2022, Sec. 2.2): one discrete id per image
 * patch, from a vocabulary of `vocabulary` visual words. selfsup trains its own (the DALL-E dVAE
 * that BEiT used cannot be downloaded here): a VQ-VAE (`VQTokenizer`) or k-means over patch pixels
 * (`KMeansTokenizer`, the cheap baseline). Both read images normalised with their own `normalize`
 * and are saved as one safetensors file whose metadata says how to rebuild them.
 */
import { type Tensor, addmm, cat, ones, tensor, tidy, zeros } from '../tensor/index.js';

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface VisualTokenizer {
  readonly kind: 'vqvae' | 'kmeans';
  readonly patchSize: number;
  readonly vocabulary: number;
  readonly normalize: Normalization;
  /** ids [B, (H/p) * (W/p)] (int64, row-major patches) of images [B, 3, H, W] normalised with `normalize` */
  tokenize(images: Tensor): Tensor;
  /** images [B, 3, H, W] (in the tokenizer's normalisation) rebuilt from ids [B, N] */
  decode(ids: Tensor): Tensor;
  /** writes the tokenizer (atomic) */
  save(file: string): void;
  dispose(): void;
}

/** Images normalised with `from` re-expressed in normalisation `to` (the same images when they agree). */
export function renormalize(images: Tensor, from: Normalization, to: Normalization): Tensor {
  if (from.mean.every((m, i) => m === to.mean[i]) && from.std.every((s, i) => s === to.std[i])) return images;
  const scale = from.std.map((s, i) => s / to.std[i]);
  const shift = from.mean.map((m, i) => (m - to.mean[i]) / to.std[i]);
  return tidy(() => images.mul(tensor(scale, { shape: [1, 3, 1, 1] })).add(tensor(shift, { shape: [1, 3, 1, 1] })));
}

/** How many times each of `vocabulary` codes occurs in ids (any shape): float [vocabulary]. */
export function codeCounts(ids: Tensor, vocabulary: number): Tensor {
  return tidy(() => {
    const flat = ids.flatten();
    return zeros([vocabulary]).indexAdd(0, flat, ones([flat.numel]));
  });
}

/** Perplexity exp(-sum p log p) of code usage counts [K], and the fraction of codes used at all. */
export function codebookUsage(counts: Tensor): { perplexity: number; used: number } {
  return tidy(() => {
    const p = counts.float().div(counts.float().sum());
    const entropy = p.mul(p.add(1e-10).log()).sum().neg();
    return { perplexity: entropy.exp().item(), used: counts.gt(0).float().mean().item() };
  });
}

/**
 * The nearest code of each row of x [M, D] in `codebook` [K, D] by squared Euclidean distance
 * ||x||^2 - 2 x.e + ||e||^2, in chunks of 8192 rows: ids [M] (int64) and squared distances [M].
 * The code maximises x.e - ||e||^2 / 2 (||x||^2 is the row's own), one matrix product with the
 * bias folded in (addmm): no pass over the [M, K] scores beyond the product and its maximum.
 */
export function nearestCode(x: Tensor, codebook: Tensor): { ids: Tensor; distances: Tensor } {
  if (x.ndim !== 2 || codebook.ndim !== 2 || x.size(1) !== codebook.size(1)) {
    throw new Error(`nearestCode: expected rows [M, D] and a codebook [K, D], got [${x.shape.join(', ')}] and [${codebook.shape.join(', ')}]`);
  }
  return tidy(() => {
    const halfNorms = codebook.square().sum(1).mul(-0.5).unsqueeze(0); // [1, K]: -||e||^2 / 2
    const ids: Tensor[] = [];
    const distances: Tensor[] = [];
    for (let start = 0; start < x.size(0); start += 8192) {
      const chunk = x.slice(0, start, Math.min(x.size(0), start + 8192));
      const [best, index] = addmm(halfNorms, chunk, codebook.transpose(0, 1)).maxDim(1); // [m, K] scores x.e - ||e||^2 / 2
      ids.push(index);
      distances.push(chunk.square().sum(1).sub(best.float().mul(2)).clamp(0)); // ||x||^2 - 2 (x.e - ||e||^2 / 2)
    }
    return { ids: cat(ids), distances: cat(distances) };
  });
}
