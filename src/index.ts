/** selfsup: self-supervised visual representation learning on libtorch. */
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export * as data from './data/index.js';
export * as transforms from './transforms/index.js';
export * as losses from './losses/index.js';
export * as methods from './methods/index.js';
export * as train from './train/index.js';
export * as evaluation from './eval/index.js';
export * as runs from './runs/index.js';
export * as tokenizers from './tokenizers/index.js';
