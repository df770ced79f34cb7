/**
 * Run by the global setup under tsx, because Jest's global setup does not resolve the
 * workspace's path aliases. Checks Redis, recreates the e2e database and migrates it, writes
 * the tiny model, seeds a tenant, key and model row, and builds the apps (Nx caches the build).
 * Prints the result as the last line of stdout, as JSON.
 *
 * Input (environment): E2E_DATABASE_URL, E2E_REDIS_URL, E2E_WORK_DIR, E2E_MODEL.
 */
import { join } from 'node:path';
import { seedDemo } from '@marquee/gateway/feature-admin';
import { makeCausalLm, makeEncoder } from '@marquee/shared/model-maker';
import {
  buildApps,
  ensureDatabase,
  ensureRedis,
  migrate,
} from '@marquee/shared/util-setup';
import { Client } from 'pg';
import type { PreparedStack } from './stack';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Drops the database if it exists, so every run starts from an empty ledger. */
async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(
      `DROP DATABASE IF EXISTS "${database.replace(/"/g, '""')}" WITH (FORCE)`,
    );
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const databaseUrl = required('E2E_DATABASE_URL');
  const workDir = required('E2E_WORK_DIR');
  const model = required('E2E_MODEL');

  await ensureRedis(required('E2E_REDIS_URL'));
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  migrate(databaseUrl);

  const modelsDir = join(workDir, 'models');
  const modelDir = join(modelsDir, model);
  makeCausalLm({
    out: modelDir,
    name: model,
    layers: 2,
    hidden: 64,
    heads: 4,
    vocab: 512,
    context: 256,
    dtype: 'fp32',
    seed: 42,
  });
  const seed = await seedDemo({
    databaseUrl,
    modelDir,
    keyFile: join(workDir, 'key.json'),
    tenantName: 'e2e',
  });
  // An embedding model beside it, `<model>-embed`, for /v1/embeddings.
  const embedDir = join(modelsDir, `${model}-embed`);
  makeEncoder({
    out: embedDir,
    name: `${model}-embed`,
    layers: 2,
    hidden: 64,
    heads: 4,
    vocab: 512,
    context: 256,
    seed: 42,
  });
  await seedDemo({
    databaseUrl,
    modelDir: embedDir,
    keyFile: join(workDir, 'key.json'),
    tenantName: 'e2e',
  });
  buildApps();

  const result: PreparedStack = {
    modelsDir,
    model: seed.model,
    apiKey: seed.apiKey,
    tenantId: seed.tenantId,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
