/** Augmentations, view and mask generators. */
export * from './masking.js';
