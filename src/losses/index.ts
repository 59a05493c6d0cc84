/** Loss functions of the self-supervised methods. */
export * from './ntxent.js';
export * from './infoNce.js';
export * from './negativeCosine.js';
export * from './barlowTwins.js';
export * from './vicreg.js';
export * from './maskedReconstruction.js';
export * from './crossViewCrossEntropy.js';
export * from './dino.js';
export * from './nnclr.js';
export * from './fastSiam.js';
export * from './swav.js';
export * from './koleo.js';
export * from './ibotPatch.js';
export * from './centerNetFocal.js';
export * from './float32.js';
export * from './jepa.js';
