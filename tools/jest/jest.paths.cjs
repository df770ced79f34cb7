// Maps tsconfig.base.json's path aliases for Jest.
const path = require('node:path');
const { compilerOptions } = require('../../tsconfig.base.json');

module.exports = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`,
    path.join(__dirname, '..', '..', target),
  ]),
);
