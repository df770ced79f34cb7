import path from 'node:path';
import { defineConfig } from 'prisma/config';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/marquee';

// The CLI cannot download its native schema engine here (offline / air-gapped installs), so it
// runs our stand-in, which drives @prisma/schema-engine-wasm through @prisma/adapter-pg.
// See tools/prisma-engine/README.md. An explicitly set variable still wins.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(
  __dirname,
  'tools/prisma-engine/schema-engine.cjs',
);

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL },
});
