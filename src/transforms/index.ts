/** Augmentations, view and mask generators. */
export * from './masking.js';
export * from './multiBlockMask.js';
export * from './applyRandomly.js';
export * from './colorOps.js';
export * from './uniformStream.js';
export * from './randomResizedCrop.js';
export * from './resize.js';
export * from './colorJitter.js';
export * from './gaussianBlur.js';
export * from './flipsAndRotations.js';
export * from './viewPipeline.js';
export * from './presets.js';
export * from './preview.js';
export * from './corruptions.js';
