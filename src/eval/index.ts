/** Evaluation: features, kNN, linear probe, fine-tuning, collapse diagnostics. */
export * from './features.js';
export * from './knn.js';
export * from './backboneKnn.js';
export * from './collapse.js';
export * from './classificationReport.js';
export * from './linearProbe.js';
export * from './finetune.js';
export * from './retrieval.js';
export * from './attentionMaps.js';
export * from './robustness.js';
export * from './segmentationProbe.js';
export * from './adversarial.js';
export * from './detectionMetrics.js';
export * from './centerNetBoxes.js';
export * from './detection.js';
