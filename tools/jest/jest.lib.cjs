// Shared Jest settings for every project: ts-jest for our TypeScript (transpile only: types are
// checked once by `npm run typecheck`, which keeps Jest fast and lean), babel-jest to turn
// NestJS 12's ESM-only packages into CommonJS for Jest's module system, and one process-wide
// onnxruntime-node (see onnxruntime-environment.cjs).
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

module.exports = (dir, overrides = {}) => ({
  displayName: path.relative(ROOT, dir),
  rootDir: dir,
  testEnvironment: path.join(__dirname, 'onnxruntime-environment.cjs'),
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: path.join(__dirname, 'tsconfig.jest.json'),
        diagnostics: { ignoreCodes: [151002] },
      },
    ],
    'node_modules/.+\\.m?js$': [
      'babel-jest',
      { configFile: path.join(__dirname, 'babel.jest.cjs') },
    ],
  },
  // ESM-only packages: NestJS 12, Hugging Face's, and the AI SDK the e2e suite drives (its
  // provider-utils requires zod/v4/locales/en.js, which zod ships only as ESM).
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|@huggingface|ai|@ai-sdk|@workflow|zod)/)',
  ],
  moduleNameMapper: {
    ...require('./jest.paths.cjs'),
    '^onnxruntime-node$': path.join(__dirname, 'onnxruntime-module.cjs'),
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  ...overrides,
});
