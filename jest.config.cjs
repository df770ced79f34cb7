// `npm test` runs every project's Jest config in one run: unit specs (*.spec.ts),
// integration specs against real PostgreSQL and Redis (*.int-spec.ts) and the e2e suite.
const { readdirSync, existsSync } = require('node:fs');
const path = require('node:path');

function projects(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const child = path.join(dir, entry.name);
    if (existsSync(path.join(child, 'jest.config.cjs'))) found.push(child);
    else found.push(...projects(child));
  }
  return found;
}

module.exports = {
  projects: [
    ...projects(path.join(__dirname, 'libs')),
    ...projects(path.join(__dirname, 'apps')),
    // deploy/ validated without a cluster or Docker (Kubernetes, compose, Dockerfiles).
    path.join(__dirname, 'tools', 'deploy-check'),
    // eslint.config.mjs's module boundaries, proven on probe sources.
    path.join(__dirname, 'tools', 'lint-rules'),
  ],
  testTimeout: 30_000,
  // Two cores: two workers, recycled when they hold on to too much memory between files.
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
};
