/** Optimizers, gradient clipping and schedules. */
export * from './optimizer.js';
export * from './sgd.js';
export * from './adamw.js';
export * from './lars.js';
export * from './clipGradNorm.js';
export * from './schedules.js';
export * from './ema.js';
export * from './layerDecay.js';
export * from './minibatchEpoch.js';
