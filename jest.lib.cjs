// Shared Jest settings for every project: ts-jest for our TypeScript, babel-jest to turn
// NestJS 12's ESM-only packages into CommonJS for Jest's module system.
const path = require('node:path');

module.exports = (dir, overrides = {}) => ({
  displayName: path.relative(__dirname, dir),
  rootDir: dir,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(dir, 'tsconfig.json'), diagnostics: { ignoreCodes: [151002] } }],
    'node_modules/.+\\.m?js$': ['babel-jest', { configFile: path.join(__dirname, 'babel.jest.cjs') }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@huggingface)/)'],
  moduleNameMapper: require('./jest.paths.cjs'),
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  ...overrides,
});
