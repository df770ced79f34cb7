// Checks the lint rules themselves: eslint.config.mjs run on probe sources (no services).
module.exports = require('../jest/jest.lib.cjs')(__dirname, {
  testEnvironment: 'node',
  testTimeout: 60_000,
});
