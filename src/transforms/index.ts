/** Augmentations, view and mask generators. */
export * from './masking.js';
export * from './applyRandomly.js';
export * from './colorOps.js';
