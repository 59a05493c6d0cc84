/** Files: safetensors, atomic writes. */
export * from './atomicWrite.js';
export * from './safetensors.js';
export * from './checkpoint.js';
export * from './png.js';
export * from './npy.js';
export * from './heatmap.js';
export * from './barChart.js';
export * from './boxesPicture.js';
export * from './runFolder.js';
export * from './processes.js';
export * from './csv.js';
export * from './regularFile.js';
