import {
  QUEUE_PREFIX,
  encodeTenantShare,
  fairBellKey,
  fairTenantsKey,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FairJobSource } from './fair-job-source';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Payload {
  tenant: string;
  n: number;
}

/** Enqueues the way the gateway does: the tenant's queue, its share, the bell. */
async function enqueue(
  redis: Redis,
  queues: Map<string, Queue>,
  model: string,
  tenant: string,
  count: number,
  weight = 1,
) {
  let queue = queues.get(tenant);
  if (!queue) {
    queue = new Queue(tenantQueueName(model, tenant), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    queues.set(tenant, queue);
  }
  await queue.addBulk(
    Array.from({ length: count }, (_, n) => ({
      name: 'infer',
      data: { tenant, n },
      opts: { removeOnComplete: true },
    })),
  );
  await redis.hset(
    fairTenantsKey(model),
    tenant,
    encodeTenantShare({ tier: 5, weight }),
  );
  await redis.lpush(fairBellKey(model), '1');
}

/** Drains `count` jobs with `slots` parallel consumers, returning tenants in service order. */
async function drain(
  source: FairJobSource<Payload>,
  count: number,
  slots: number,
): Promise<string[]> {
  const order: string[] = [];
  await Promise.all(
    Array.from({ length: slots }, async () => {
      while (order.length < count) {
        const taken = await source.next();
        if (!taken) return;
        order.push(taken.job.data.tenant);
        await taken.complete();
      }
    }),
  );
  return order;
}

describe('FairJobSource (Redis)', () => {
  let redis: Redis;
  let bell: Redis;
  let queues: Map<string, Queue>;
  let model: string;
  let source: FairJobSource<Payload>;

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queues = new Map();
    model = `fair-test-${process.pid}-${Date.now()}`;
    source = new FairJobSource<Payload>({
      model,
      connection: redis,
      bellConnection: bell,
      refreshMs: 50,
    });
  });

  afterEach(async () => {
    await source.close();
    for (const queue of queues.values())
      await queue.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([...queues.values()].map((q) => q.close()));
    await redis.del(fairTenantsKey(model), fairBellKey(model));
    redis.disconnect();
    bell.disconnect();
  });

  it('serves a single request of tenant B right after the jobs in service, while A has 1,000 queued', async () => {
    await enqueue(redis, queues, model, 'tenant-a', 1000);
    const firstWave = await drain(source, 4, 4);
    expect(firstWave.every((t) => t === 'tenant-a')).toBe(true);
    await enqueue(redis, queues, model, 'tenant-b', 1);
    const next = await drain(source, 8, 4);
    // B waits for at most one batch (4 slots) of A's work, not for A's backlog of ~1,000.
    expect(next.indexOf('tenant-b')).toBeGreaterThanOrEqual(0);
    expect(next.indexOf('tenant-b')).toBeLessThanOrEqual(4);
  });

  it('shares a saturated pool by weight', async () => {
    await enqueue(redis, queues, model, 'heavy', 300, 3);
    await enqueue(redis, queues, model, 'light', 300, 1);
    const order = await drain(source, 200, 2);
    const heavy = order.filter((t) => t === 'heavy').length;
    expect(heavy / order.length).toBeGreaterThan(0.7);
    expect(heavy / order.length).toBeLessThan(0.8);
  });

  it('wakes every idle slot at once when a burst arrives', async () => {
    const slots = Array.from({ length: 6 }, () => source.next());
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = Date.now();
    await enqueue(redis, queues, model, 'burst', 6);
    const taken = await Promise.all(slots);
    expect(taken.every((t) => t?.job.data.tenant === 'burst')).toBe(true);
    expect(Date.now() - started).toBeLessThan(900);
    await Promise.all(taken.map((t) => t?.complete()));
  });

  it('keeps an idle pool cheap: one sweep of the tenants per wake-up, not one per slot', async () => {
    for (let t = 0; t < 10; t++)
      await redis.hset(
        fairTenantsKey(model),
        `quiet-${t}`,
        encodeTenantShare({ tier: 5, weight: 1 }),
      );
    let commands = 0;
    for (const connection of [redis, bell]) {
      const send = connection.sendCommand.bind(connection);
      connection.sendCommand = ((...args: Parameters<typeof send>) => {
        commands++;
        return send(...args);
      }) as typeof connection.sendCommand;
    }
    const slots = Array.from({ length: 8 }, () => source.next());
    await new Promise((resolve) => setTimeout(resolve, 1200));
    commands = 0;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // Per second: a bell look per slot, one wait, one tenant list and one sweep of 10 tenants
    // (~20), where every slot sweeping every tenant would be ~100.
    expect(commands).toBeLessThan(80);

    const started = Date.now();
    await enqueue(redis, queues, model, 'late', 8);
    const taken = await Promise.all(slots);
    expect(taken.every((t) => t?.job.data.tenant === 'late')).toBe(true);
    expect(Date.now() - started).toBeLessThan(900);
    await Promise.all(taken.map((t) => t?.complete()));
  });

  it('wakes on the bell when work arrives at an idle pool', async () => {
    const waiting = source.next();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await enqueue(redis, queues, model, 'late', 1);
    const taken = await waiting;
    expect(taken?.job.data.tenant).toBe('late');
    expect(Date.now() - started).toBeLessThan(900);
    await taken?.complete();
  });
});
