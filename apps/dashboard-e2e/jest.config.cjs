// The admin dashboard in a real browser (Debian's Chromium driven by playwright-core) against a
// real gateway and worker. The stack is marquee-e2e's: the same global setup and teardown files,
// so when both projects run in one `jest` (`npm test`, `npm run test:e2e`), Jest starts that
// stack once for both (it runs each distinct global-setup module once) and this suite adds its
// own tenant to it.
const path = require('node:path');

const support = path.join(__dirname, '..', 'marquee-e2e', 'src', 'support');

module.exports = require('../../tools/jest/jest.lib.cjs')(__dirname, {
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  testEnvironment: 'node',
  globalSetup: path.join(support, 'global-setup.ts'),
  globalTeardown: path.join(support, 'global-teardown.ts'),
});
