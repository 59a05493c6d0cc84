/** Backbones and heads. */
export * from './resnet.js';
export * from './vit.js';
