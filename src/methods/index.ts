/** Self-supervised methods: each a module + its loss step. */
export * from './method.js';
export * from './simclr.js';
export * from './twoViewEncoder.js';
export * from './mocoV2.js';
export * from './mocoV3.js';
export * from './byol.js';
export * from './simsiam.js';
export * from './barlowTwins.js';
export * from './vicreg.js';
export * from './mae.js';
export * from './buildMethod.js';
export * from './tokenizerTraining.js';
export * from './beit.js';
export * from './dino.js';
export * from './ibot.js';
export * from './supervised.js';
