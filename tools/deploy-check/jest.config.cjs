// Validates deploy/ (Kubernetes overlays, docker-compose.yml, Dockerfiles) without a cluster or
// a Docker engine, by running src/deploy-check.ts (ESM-only schema packages) under tsx.
module.exports = require('../jest/jest.lib.cjs')(__dirname, {
  testEnvironment: 'node',
  testTimeout: 120_000,
});
