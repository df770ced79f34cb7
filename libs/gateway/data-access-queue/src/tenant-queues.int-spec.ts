import {
  type EmbeddingJob,
  QUEUE_PREFIX,
  decodeTenantShare,
  fairBellKey,
  fairTenantsKey,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { EmbeddingQueue } from './inference-queue.service';
import { RedisConnection } from './redis.provider';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('EmbeddingQueue (Redis)', () => {
  const model = `embed-test-${process.pid}-${Date.now()}`;
  let redis: RedisConnection;
  let queue: EmbeddingQueue;
  const job = (requestId: string, tenantId: string): EmbeddingJob => ({
    kind: 'embedding',
    requestId,
    tenantId,
    apiKeyId: 'key-1',
    model,
    inputs: [{ kind: 'text', text: 'a catalogue entry' }],
    replyTo: { gatewayId: 'g1', address: '127.0.0.1:1' },
    enqueuedAt: Date.now(),
  });
  const tenantQueue = (tenant: string) =>
    new Queue(tenantQueueName(model, tenant), {
      connection: redis.client,
      prefix: QUEUE_PREFIX,
    });

  beforeAll(() => {
    redis = new RedisConnection(REDIS_URL);
    queue = new EmbeddingQueue(redis);
  });

  afterAll(async () => {
    for (const tenant of ['tenant-a', 'tenant-b']) {
      const q = tenantQueue(tenant);
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await redis.client.del(fairTenantsKey(model), fairBellKey(model));
    await queue.onModuleDestroy();
    await redis.onModuleDestroy();
  });

  it('puts each tenant’s jobs on its own queue for the model, registers its share and rings the bell', async () => {
    await queue.enqueue(job('req-a1', 'tenant-a'), { tier: 1, weight: 3 });
    await queue.enqueue(job('req-a2', 'tenant-a'), { tier: 1, weight: 3 });
    await queue.enqueue(job('req-b1', 'tenant-b'));

    const a = tenantQueue('tenant-a');
    const b = tenantQueue('tenant-b');
    try {
      expect(await a.getWaitingCount()).toBe(2);
      expect(await b.getWaitingCount()).toBe(1);
      expect((await a.getJob('req-a1'))?.data).toMatchObject({
        kind: 'embedding',
        tenantId: 'tenant-a',
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const shares = await redis.client.hgetall(fairTenantsKey(model));
    expect(decodeTenantShare(shares['tenant-a'])).toEqual({
      tier: 1,
      weight: 3,
    });
    expect(decodeTenantShare(shares['tenant-b'])).toEqual({
      tier: 5,
      weight: 1,
    });
    expect(await redis.client.llen(fairBellKey(model))).toBe(3);
  });

  it('withdraws a waiting job once, and only from its own tenant; a missing job is gone', async () => {
    // Another tenant's queue does not have it: nothing is removed there.
    expect(await queue.withdraw(model, 'tenant-b', 'req-a2')).toBe('gone');
    expect(await queue.withdraw(model, 'tenant-a', 'req-a2')).toBe('withdrawn');
    expect(await queue.withdraw(model, 'tenant-a', 'req-a2')).toBe('gone');
  });

  it('does not withdraw a job a worker has taken; once it failed, it is gone', async () => {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(tenantQueueName(model, 'tenant-b'), null, {
      connection,
      prefix: QUEUE_PREFIX,
      autorun: false,
    });
    try {
      const taken = await worker.getNextJob('token-1', { block: false });
      expect(taken?.id).toBe('req-b1');
      expect(await queue.withdraw(model, 'tenant-b', 'req-b1')).toBe('taken');
      expect(await taken?.getState()).toBe('active');
      // Failed without a report (kept for inspection): gone, and not removed.
      await taken?.moveToFailed(new Error('stalled'), 'token-1', false);
      expect(await queue.withdraw(model, 'tenant-b', 'req-b1')).toBe('gone');
      expect(await taken?.getState()).toBe('failed');
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });

  it('refuses a job that does not match the shared schema, before Redis sees it', async () => {
    await expect(
      queue.enqueue({ ...job('req-bad', 'tenant-a'), inputs: [] }),
    ).rejects.toThrow();
    const a = tenantQueue('tenant-a');
    try {
      expect(await a.getJob('req-bad')).toBeUndefined();
    } finally {
      await a.close();
    }
  });
});
