/** The training loop and its parts: checkpoints, metrics and TensorBoard, progress, bad steps, monitors, callbacks. */
export * from './trainer.js';
export * from './trainerCallback.js';
export * from './runLog.js';
export * from './runCheckpointing.js';
export * from './badStepGuard.js';
export * from './collapseMonitor.js';
export * from './costMonitor.js';
export * from './knnMonitor.js';
export * from './tensorboard.js';
export * from './progress.js';
export * from './costEstimate.js';
export * from './runIdentity.js';
export * from './dataParallelRun.js';
export * from './resolutionSchedule.js';
