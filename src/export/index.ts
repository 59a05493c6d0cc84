// Export and import of backbones: ONNX graphs, torchvision/timm-named safetensors, Hugging Face-style folders.
export * from './onnxProto.js';
export * from './onnxGraph.js';
export * from './onnxBackbone.js';
export * from './exportedBackbone.js';
export * from './importWeights.js';
