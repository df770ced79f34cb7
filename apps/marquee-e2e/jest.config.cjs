// Black-box e2e: the global setup builds and starts a real gateway and worker (own ports, own
// database, a unique tiny model), and the specs talk to them over HTTP with the `openai` client.
const path = require('node:path');

module.exports = require('../../tools/jest/jest.lib.cjs')(__dirname, {
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  // The specs never load onnxruntime themselves; the worker process does.
  testEnvironment: 'node',
  globalSetup: path.join(__dirname, 'src', 'support', 'global-setup.ts'),
  globalTeardown: path.join(__dirname, 'src', 'support', 'global-teardown.ts'),
  testTimeout: 60_000,
});
