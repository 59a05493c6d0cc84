/** Data sets. */
export * from './imageArray.js';
export * from './binaryFormats.js';
