/** selfsup: self-supervised visual representation learning on libtorch. */
export * from './tensor/index.js';
