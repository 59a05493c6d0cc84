/**
 * The cheap visual tokenizer: k-means over patch pixels (Lloyd's algorithm on a sample of
 * patches, centroids started by k-means++ seeding (Arthur & Vassilvitskii, 2007: each next seed
 * drawn with probability proportional to its squared distance to the nearest seed so far), empty
 * clusters re-seeded on the patches farthest from their centroid). A patch's token is its nearest centroid. No training of a
 * network, so a useful baseline for BEiT's targets (compare the VQ-VAE of `VQTokenizer`).
 *
 * ```ts
 * const rows = samplePatches(images, { patchSize: 4, size: 32, normalize, samples: 200_000 });   // [M, 48]
 * const tok = KMeansTokenizer.fit(rows, { patchSize: 4, vocabulary: 512, normalize });
 * const ids = tok.tokenize(images);   // int64 [B, 64]
 * ```
 */
import type { ImageArray } from '../data/index.js';
import { writeSafetensors } from '../io/index.js';
import { patchify, unpatchify } from '../models/index.js';
import { applyView } from '../transforms/index.js';
import { type Generator, type Tensor, cat, embedding, keep, multinomial, noGrad, randint, tensor, tidy, zeros } from '../tensor/index.js';
import { type Normalization, type VisualTokenizer, codeCounts, nearestCode } from './visualTokenizer.js';

export interface KMeansOptions {
  patchSize: number;
  vocabulary: number;
  normalize: Normalization;
  /** Lloyd iterations (default 20) */
  iterations?: number;
  generator?: Generator;
  /** after each iteration: the mean squared distance of patches to their centroid */
  onIteration?: (iteration: number, inertia: number) => void;
}

/**
 * Patch rows [M, p*p*3] of about `samples` patches: every patch of images spread evenly over the
 * data set, each image resized to `size` and normalised.
 */
export function samplePatches(images: ImageArray, o: { patchSize: number; size: number; normalize: Normalization; samples: number }): Tensor {
  const perImage = (o.size / o.patchSize) ** 2;
  const indices = images.spread(Math.ceil(o.samples / perImage));
  return tidy(() => cat(Array.from({ length: Math.ceil(indices.length / 500) }, (_, b) => {
    const rows = patchify(applyView(images.batch(indices.slice(b * 500, (b + 1) * 500)), { size: o.size, crop: 'center', normalize: o.normalize }), o.patchSize);
    return rows.reshape(rows.size(0) * rows.size(1), rows.size(2));
  })));
}

/** k-means++ seeds: k rows of x [M, D], each next one drawn with probability proportional to D(x)^2. */
function seeds(x: Tensor, k: number, generator?: Generator): Tensor {
  return tidy(() => {
    const chosen = [randint(0, x.size(0), [1], { generator }).item()];
    const squaredTo = (i: number) => x.sub(x.slice(0, i, i + 1)).square().sum(1); // [M]
    let nearest = keep(squaredTo(chosen[0]));
    while (chosen.length < k) {
      const next = tidy(() => {
        const total = nearest.sum().item();
        // all remaining rows coincide with seeds: take any row not chosen yet
        if (!(total > 0)) return chosen.length;
        return multinomial(nearest.div(total), 1, true, generator).item();
      });
      chosen.push(next);
      const updated = tidy(() => nearest.minimum(squaredTo(next)));
      nearest.dispose();
      nearest = keep(updated);
    }
    nearest.dispose();
    return x.indexSelect(0, tensor(chosen, { dtype: 'int64' }));
  });
}

export class KMeansTokenizer implements VisualTokenizer {
  readonly kind = 'kmeans' as const;

  constructor(readonly centroids: Tensor, readonly patchSize: number, readonly normalize: Normalization) {
    if (centroids.ndim !== 2 || centroids.size(1) !== patchSize * patchSize * 3) {
      throw new Error(`KMeansTokenizer: centroids must be [K, ${patchSize * patchSize * 3}] for ${patchSize}x${patchSize} RGB patches, got [${centroids.shape.join(', ')}]`);
    }
  }

  get vocabulary(): number {
    return this.centroids.size(0);
  }

  /** Clusters patch rows [M, p*p*3] (M >= vocabulary). */
  static fit(rows: Tensor, o: KMeansOptions): KMeansTokenizer {
    const k = o.vocabulary;
    if (rows.size(0) < k) throw new Error(`KMeansTokenizer.fit: ${rows.size(0)} patches for ${k} clusters; give at least as many patches as clusters`);
    const centroids = noGrad(() => {
      let c = keep(seeds(rows, k, o.generator));
      for (let it = 0; it < (o.iterations ?? 20); it++) {
        const next = tidy(() => {
          const { ids, distances } = nearestCode(rows, c);
          const counts = codeCounts(ids, k);
          const sums = zeros([k, rows.size(1)]).indexAdd(0, ids, rows);
          let updated = sums.div(counts.clamp(1).unsqueeze(1));
          const empty = counts.eq(0);
          const nEmpty = empty.sum().item();
          if (nEmpty > 0) {
            // re-seed empty clusters on the worst-fitted patches
            const far = distances.argsort(0, true).slice(0, 0, nEmpty);
            const emptyIds = empty.nonzero().squeeze(1);
            updated = updated.indexPut([emptyIds], rows.indexSelect(0, far));
          }
          o.onIteration?.(it, distances.mean().item());
          return updated;
        });
        c.dispose();
        c = keep(next);
      }
      return c;
    });
    return new KMeansTokenizer(centroids, o.patchSize, o.normalize);
  }

  tokenize(images: Tensor): Tensor {
    return noGrad(() => tidy(() => {
      const rows = patchify(images, this.patchSize); // [B, N, p*p*3]
      const [b, n, d] = rows.shape;
      return nearestCode(rows.reshape(b * n, d), this.centroids).ids.reshape(b, n);
    }));
  }

  decode(ids: Tensor): Tensor {
    return tidy(() => unpatchify(embedding(this.centroids, ids), this.patchSize));
  }

  save(file: string): void {
    writeSafetensors(file, { centroids: this.centroids }, {
      selfsup_tokenizer: JSON.stringify({ kind: this.kind, options: { patchSize: this.patchSize, vocabulary: this.vocabulary, normalize: this.normalize } }),
    });
  }

  dispose(): void {
    this.centroids.dispose();
  }
}
