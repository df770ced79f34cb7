// Stands in for `onnxruntime-node` under Jest: the one instance onnxruntime-environment.cjs loaded.
module.exports = globalThis.__marqueeOnnxRuntime;
