// `npm run test:unit`: only *.spec.ts files (see workspace.cjs).
module.exports = require('./workspace.cjs').tier('.spec.ts');
