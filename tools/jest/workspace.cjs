// The workspace's Jest projects and the settings every run shares. jest.config.cjs (`npm test`)
// runs every tier; jest.unit.cjs, jest.int.cjs and jest.e2e.cjs run one each, told apart by
// file suffix: `*.spec.ts` (unit, no services), `*.int-spec.ts` (real PostgreSQL and Redis),
// `*.e2e-spec.ts` (black-box, real processes).
const { readdirSync, existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

function projectsUnder(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (
      !entry.isDirectory() ||
      entry.name === 'node_modules' ||
      entry.name.startsWith('.')
    )
      continue;
    const child = path.join(dir, entry.name);
    if (existsSync(path.join(child, 'jest.config.cjs'))) found.push(child);
    else found.push(...projectsUnder(child));
  }
  return found;
}

/** Every project's folder (each holds a jest.config.cjs). */
function projectDirs() {
  return [
    ...projectsUnder(path.join(ROOT, 'libs')),
    ...projectsUnder(path.join(ROOT, 'apps')),
    // deploy/ validated without a cluster or Docker (Kubernetes, compose, Dockerfiles).
    path.join(ROOT, 'tools', 'deploy-check'),
    // eslint.config.mjs's module boundaries, proven on probe sources.
    path.join(ROOT, 'tools', 'lint-rules'),
  ];
}

const shared = {
  rootDir: ROOT,
  testTimeout: 30_000,
  // Two cores: two workers, recycled when they hold on to too much memory between files.
  maxWorkers: 2,
  workerIdleMemoryLimit: '1GB',
};

/**
 * A run of one tier: each project's own test patterns narrowed to those for files ending in
 * `suffix` (e.g. `.spec.ts`); projects with none are left out, so their global setup (the e2e
 * stack) never starts.
 */
function tier(suffix) {
  return {
    ...shared,
    projects: projectDirs().flatMap((dir) => {
      const config = require(path.join(dir, 'jest.config.cjs'));
      const testMatch = config.testMatch.filter((pattern) =>
        pattern.endsWith(`*${suffix}`),
      );
      return testMatch.length > 0 ? [{ ...config, testMatch }] : [];
    }),
  };
}

module.exports = { projectDirs, shared, tier };
