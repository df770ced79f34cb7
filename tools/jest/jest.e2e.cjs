// `npm run test:e2e`: only *.e2e-spec.ts files (see workspace.cjs).
module.exports = require('./workspace.cjs').tier('.e2e-spec.ts');
