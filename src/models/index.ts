/** Backbones and heads. */
export * from './resnet.js';
