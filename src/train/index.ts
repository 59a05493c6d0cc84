/** The training loop and what it writes: checkpoints, metrics, TensorBoard, progress, cost. */
export * from './trainer.js';
export * from './tensorboard.js';
export * from './progress.js';
export * from './costEstimate.js';
export * from './runIdentity.js';
