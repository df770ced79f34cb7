// In-process tests of the whole gateway (AppModule) against real PostgreSQL and Redis.
const lib = require('../../tools/jest/jest.lib.cjs');

module.exports = lib(__dirname, {
  // ESM-only dependencies of @fastify/static (Swagger UI's assets) and light-my-request (inject).
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|@huggingface|content-disposition|cookie)/)',
  ],
});
