/** Data sets. */
export * from './imageArray.js';
export * from './binaryFormats.js';
export * from './imageFolder.js';
export * from './sampler.js';
export * from './viewBatch.js';
export * from './loader.js';
export * from './openImages.js';
