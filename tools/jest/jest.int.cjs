// `npm run test:int`: only *.int-spec.ts files (see workspace.cjs).
module.exports = require('./workspace.cjs').tier('.int-spec.ts');
