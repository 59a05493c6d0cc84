/** Backbones and heads. */
export * from './resnet.js';
export * from './vit.js';
export * from './projectionHeads.js';
export * from './dinoHead.js';
export * from './maeDecoder.js';
export * from './patches.js';
export * from './beitHead.js';
export * from './buildBackbone.js';
export * from './centerNetHead.js';
export * from './jepaPredictor.js';
