/** Loss functions of the self-supervised methods. */
export * from './ntxent.js';
