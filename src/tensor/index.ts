/** The tensor layer: typed tensors over libtorch, memory scopes, autograd. */
export * from './dtype.js';
export { Tensor, Generator, type Scalar, type TensorOrScalar, type Reduction, type NestedArray } from './tensor.js';
export * from './creation.js';
export * from './functional.js';
export * from './autograd.js';
export * from './engine.js';
export { tidy, keep, dispose, pipe } from './scope.js';
export * from './autocast.js';
export * from './distributed.js';
export * from './precision.js';
export * from './optimizerSteps.js';
