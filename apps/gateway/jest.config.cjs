// In-process tests of the whole gateway (AppModule) against real PostgreSQL and Redis.
const path = require('node:path');
const lib = require('../../tools/jest/jest.lib.cjs');

const base = lib(__dirname);
module.exports = lib(__dirname, {
  // ESM-only dependencies of @fastify/static (Swagger UI's assets) and light-my-request (inject).
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|@huggingface|content-disposition|cookie)/)',
  ],
  transform: {
    ...base.transform,
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: path.join(__dirname, 'tsconfig.spec.json'),
        diagnostics: { ignoreCodes: [151002] },
      },
    ],
  },
});
