/** nn: modules, layers and initialisation over the Tensor API (as torch.nn). */
export * from './module.js';
export * as init from './init.js';
export * from './linear.js';
export * from './conv2d.js';
export * from './batchNorm.js';
export * from './norms.js';
export * from './dropout.js';
export * from './basic.js';
export * from './mlp.js';
export * from './attention.js';
