// Fault tests (issue 9): each file starts its own redis-server and PostgreSQL cluster, the built
// gateway and workers as real processes, and breaks them on purpose (kill -9, pg_ctl stop).
// Named jest.faults.cjs, not jest.config.cjs, so `npm test` does not collect it: they run alone
// with `npm run test:faults` (in band: each file already uses several processes).
module.exports = require('../../tools/jest/jest.lib.cjs')(__dirname, {
  displayName: 'faults-e2e',
  testMatch: ['<rootDir>/src/**/*.faults-spec.ts'],
  testEnvironment: 'node',
  testTimeout: 180_000,
});
