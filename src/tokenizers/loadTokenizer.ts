/**
 * A tokenizer saved by `selfsup tokenizer train` (`VQTokenizer.save` / `KMeansTokenizer.save`),
 * rebuilt from the description in its safetensors metadata with its weights loaded strictly.
 *
 * ```ts
 * const tok = loadTokenizer('tok.safetensors');   // VQTokenizer or KMeansTokenizer
 * ```
 */
import { readSafetensors } from '../io/index.js';
import { keep, tidy } from '../tensor/index.js';
import { KMeansTokenizer } from './kmeansTokenizer.js';
import type { VisualTokenizer } from './visualTokenizer.js';
import { type VQTokenizerOptions, VQTokenizer } from './vqTokenizer.js';

export function loadTokenizer(file: string): VisualTokenizer {
  const { tensors, metadata } = readSafetensors(file);
  try {
    let description: { kind?: string; options?: Record<string, unknown> } = {};
    try {
      description = JSON.parse(metadata.selfsup_tokenizer ?? '{}');
    } catch {
      description = {};
    }
    if (description.kind === 'vqvae') {
      const tok = new VQTokenizer(description.options as unknown as VQTokenizerOptions);
      tidy(() => { tok.loadStateDict(tensors, { strict: true }); });
      tok.eval();
      return tok;
    }
    if (description.kind === 'kmeans') {
      const o = description.options as { patchSize: number; normalize: KMeansTokenizer['normalize'] };
      const centroids = tensors.get('centroids');
      if (!centroids) throw new Error(`${file}: a k-means tokenizer without its 'centroids' tensor`);
      return new KMeansTokenizer(keep(centroids.clone()), o.patchSize, o.normalize);
    }
    throw new Error(`${file}: not a selfsup tokenizer (its metadata has no tokenizer description; make one with 'selfsup tokenizer train')`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
