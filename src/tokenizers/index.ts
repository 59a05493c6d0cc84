/** Visual tokenizers for BEiT: a VQ-VAE and k-means over patches. */
export * from './visualTokenizer.js';
export * from './vqTokenizer.js';
export * from './kmeansTokenizer.js';
export * from './loadTokenizer.js';
