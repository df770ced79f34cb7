// Fault tests (issue 9): each file starts its own redis-server and PostgreSQL cluster, the built
// gateway and workers as real processes, and breaks them on purpose (kill -9, pg_ctl stop).
// Named jest.faults.cjs, not jest.config.cjs, so `npm test` does not collect it: they run alone
// with `npm run test:faults` (in band: each file already uses several processes).
const path = require('node:path');

module.exports = require('../../tools/jest/jest.lib.cjs')(__dirname, {
  displayName: 'faults-e2e',
  testMatch: ['<rootDir>/src/**/*.faults-spec.ts'],
  // The specs never load onnxruntime themselves; the worker processes do.
  testEnvironment: 'node',
  globalSetup: path.join(__dirname, 'src', 'support', 'global-setup.ts'),
  testTimeout: 180_000,
});
