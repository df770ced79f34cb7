// `npm test` runs every project's Jest config in one run: unit specs (*.spec.ts), integration
// specs against real PostgreSQL and Redis (*.int-spec.ts) and the e2e suites. One tier alone:
// `npm run test:unit`, `test:int`, `test:e2e` (tools/jest/workspace.cjs).
const { projectDirs, shared } = require('./tools/jest/workspace.cjs');

module.exports = { ...shared, projects: projectDirs() };
