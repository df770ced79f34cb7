// Jest runs each test file in its own vm context and module registry. Two things break
// onnxruntime-node there:
// - its native binding may be initialised only once per process, but a fresh registry loads it
//   again for every test file (a second init aborts the process);
// - it creates output typed arrays in Node's main realm, which fail onnxruntime-common's
//   `instanceof Float32Array` checks made against the test context's own constructors.
// So this environment loads onnxruntime-node once, in the main realm (see onnxruntime-module.cjs),
// and gives tests the main realm's typed-array constructors.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

module.exports = class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED)
      if (globalThis[name]) this.global[name] = globalThis[name];
    this.global.__marqueeOnnxRuntime = require('onnxruntime-node');
  }
};
