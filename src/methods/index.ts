/** Self-supervised methods: each a module + its loss step. */
export * from './method.js';
export * from './simclr.js';
