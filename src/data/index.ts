/** Data sets. */
export * from './imageArray.js';
export * from './binaryFormats.js';
export * from './imageFolder.js';
