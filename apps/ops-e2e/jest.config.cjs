// Real processes: builds the gateway and worker, starts them on their own ports with their own
// database and model, and checks metrics, health and graceful shutdown from outside.
module.exports = require('../../tools/jest/jest.lib.cjs')(__dirname, {
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testEnvironment: 'node',
  testTimeout: 120_000,
});
