/** Stops the gateway and worker, and removes the run's temp files and queue keys. */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { runningStack, stopAll } from './running-stack';

/**
 * Deletes this run's BullMQ keys from the shared Redis: `{marquee}:infer.<model>:*`, and
 * `{marquee}:infer.<model>.<suffix>:*` for queues split further (per tenant).
 */
async function dropQueueKeys(redisUrl: string, model: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    for (const pattern of [
      `{marquee}:infer.${model}:*`,
      `{marquee}:infer.${model}.*`,
    ]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          500,
        );
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** Drops the run's database (connections of the stopped processes are gone by now). */
async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export default async function globalTeardown(): Promise<void> {
  const stack = runningStack();
  if (!stack) return;
  await stopAll(stack.children);
  await dropQueueKeys(stack.redisUrl, stack.model).catch(() => undefined);
  await dropDatabase(stack.databaseUrl).catch(() => undefined);
  rmSync(stack.workDir, { recursive: true, force: true });
}
