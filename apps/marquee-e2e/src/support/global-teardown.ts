/** Stops the gateway and worker, and removes the run's temp files and queue keys. */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
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

export default async function globalTeardown(): Promise<void> {
  const stack = runningStack();
  if (!stack) return;
  await stopAll(stack.children);
  await dropQueueKeys(stack.redisUrl, stack.model).catch(() => undefined);
  rmSync(stack.workDir, { recursive: true, force: true });
}
