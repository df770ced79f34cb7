import {
  QUEUE_PREFIX,
  announceQueuedJob,
  encodeTenantShare,
  fairReadyKey,
  fairTenantsKey,
  tenantQueueName,
  fairKeys,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FairJobSource } from './fair-job-source';
import { sent, spyOnCommands } from './testing/redis-spy';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Longer than any test may run (Jest stops each at 30 s). */
const NEVER_MS = 10 * 60_000;

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
  await announceQueuedJob(redis, model, tenant, { tier: 5, weight });
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
  let bellOnlySources: FairJobSource<Payload>[];

  /**
   * A source that looks again only when the bell rings: its periodic looks and full sweeps are
   * further apart than a test may run, so a slot served in time was woken by the bell.
   */
  function bellOnly(): FairJobSource<Payload> {
    const only = new FairJobSource<Payload>({
      model,
      connection: redis,
      bellConnection: bell,
      refreshMs: NEVER_MS,
      fullSweepMs: NEVER_MS,
    });
    bellOnlySources.push(only);
    return only;
  }

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queues = new Map();
    bellOnlySources = [];
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
    for (const only of bellOnlySources) await only.close();
    for (const queue of queues.values())
      await queue.obliterate({ force: true }).catch(() => undefined);
    await Promise.all([...queues.values()].map((q) => q.close()));
    await redis.del(...fairKeys(model));
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
    const idle = bellOnly();
    const asleep = spyOnCommands(bell).next('blpop');
    const slots = Array.from({ length: 6 }, () => idle.next());
    await asleep;
    await enqueue(redis, queues, model, 'burst', 6);
    const taken = await Promise.all(slots);
    expect(taken.every((t) => t?.job.data.tenant === 'burst')).toBe(true);
    await Promise.all(taken.map((t) => t?.complete()));
  });

  it('costs a few Redis commands per job however many tenants once queued for the model', async () => {
    // 500 tenants that queued once and have nothing now; one busy tenant.
    await redis.hset(
      fairTenantsKey(model),
      Object.fromEntries(
        Array.from({ length: 500 }, (_, t) => [
          `past-${t}`,
          encodeTenantShare({ tier: 5, weight: 1 }),
        ]),
      ),
    );
    // More than are drained: drain's slots each wait for one more job at the end.
    await enqueue(redis, queues, model, 'busy', 40);
    // The first look runs the marking pass over every known tenant (once per 30 s).
    await drain(source, 1, 1);
    const commands = spyOnCommands(redis);
    const order = await drain(source, 20, 2);
    expect(order.every((t) => t === 'busy')).toBe(true);
    // Taking and completing a job is a handful of commands; trying every past tenant would be
    // ~500 per job.
    expect(commands.count / 20).toBeLessThan(12);
  });

  it('leaves a tenant found empty out of later sweeps until it queues again', async () => {
    await enqueue(redis, queues, model, 'once', 2);
    await drain(source, 2, 1);
    // The next look finds the queue empty and drops the mark, atomically with that check, then
    // sleeps on the bell.
    const asleep = spyOnCommands(bell).next('blpop');
    const waiting = source.next();
    await asleep;
    expect(await redis.smembers(fairReadyKey(model))).toEqual([]);
    await enqueue(redis, queues, model, 'once', 1);
    expect(await redis.smembers(fairReadyKey(model))).toEqual(['once']);
    const taken = await waiting;
    expect(taken?.job.data.tenant).toBe('once');
    await taken?.complete();
  });

  it('finds a job back in a queue without a mark or a ring (a stalled job) by a full sweep', async () => {
    const sweeping = new FairJobSource<Payload>({
      model,
      connection: redis,
      bellConnection: bell,
      refreshMs: 50,
      fullSweepMs: 300,
    });
    try {
      const queue = new Queue(tenantQueueName(model, 'stalled'), {
        connection: redis,
        prefix: QUEUE_PREFIX,
      });
      queues.set('stalled', queue);
      await queue.add('infer', { tenant: 'stalled', n: 0 });
      await redis.hset(
        fairTenantsKey(model),
        'stalled',
        encodeTenantShare({ tier: 5, weight: 1 }),
      );
      // Nothing rings and nothing marks it: only the full sweep can find it.
      const taken = await sweeping.next();
      expect(taken?.job.data.tenant).toBe('stalled');
      await taken?.complete();
    } finally {
      await sweeping.close();
    }
  });

  it('marks a tenant whose jobs came back without a mark, and serves all of them beside busy tenants', async () => {
    const marking = new FairJobSource<Payload>({
      model,
      connection: redis,
      bellConnection: bell,
      refreshMs: 50,
      fullSweepMs: 200,
    });
    try {
      for (const busy of ['busy-1', 'busy-2', 'busy-3'])
        await enqueue(redis, queues, model, busy, 60);
      const queue = new Queue(tenantQueueName(model, 'unmarked'), {
        connection: redis,
        prefix: QUEUE_PREFIX,
      });
      queues.set('unmarked', queue);
      await queue.addBulk(
        Array.from({ length: 4 }, (_, n) => ({
          name: 'infer',
          data: { tenant: 'unmarked', n },
        })),
      );
      await redis.hset(
        fairTenantsKey(model),
        'unmarked',
        encodeTenantShare({ tier: 5, weight: 1 }),
      );
      const order = await drain(marking, 40, 2);
      // Once marked it is one of four equal tenants: its 4 jobs run within the first 40.
      expect(order.filter((t) => t === 'unmarked')).toHaveLength(4);
    } finally {
      await marking.close();
    }
  });

  it('serves a returning tenant at once on every idle slot', async () => {
    const idle = bellOnly();
    await enqueue(redis, queues, model, 'returning', 1);
    await drain(idle, 1, 1);
    const asleep = spyOnCommands(bell).next('blpop');
    const slots = [idle.next(), idle.next()];
    await asleep;
    expect(await redis.smembers(fairReadyKey(model))).toEqual([]);
    await enqueue(redis, queues, model, 'returning', 2);
    const taken = await Promise.all(slots);
    expect(taken.map((t) => t?.job.data.tenant)).toEqual([
      'returning',
      'returning',
    ]);
    await Promise.all(taken.map((t) => t?.complete()));
  });

  it('keeps an idle pool cheap: one sweep of the tenants per wake-up, not one per slot', async () => {
    for (let t = 0; t < 10; t++)
      await redis.hset(
        fairTenantsKey(model),
        `quiet-${t}`,
        encodeTenantShare({ tier: 5, weight: 1 }),
      );
    const commands = spyOnCommands(redis, bell);
    const slots = Array.from({ length: 8 }, () => source.next());
    // Asleep on the bell after the first look (and its marking pass over every tenant).
    await sent(commands, 'blpop');
    commands.reset();
    // Two quiet seconds: each ends the wait, and the one sweep of its period follows.
    await sent(commands, 'blpop', 2);
    // Per wake-up: one wait on the bell, one tenant list and one sweep of the ready tenants
    // (~5), where every slot sweeping every tenant would be ~100.
    expect(commands.count).toBeLessThan(40);

    // Every slot still gets work (the bell waking them is tested with bell-only sources).
    await enqueue(redis, queues, model, 'late', 8);
    const taken = await Promise.all(slots);
    expect(taken.every((t) => t?.job.data.tenant === 'late')).toBe(true);
    await Promise.all(taken.map((t) => t?.complete()));
  });

  it('takes a lone job for one of many idle slots with a few commands, not a look per slot', async () => {
    const commands = spyOnCommands(redis, bell);
    const slots = Array.from({ length: 16 }, () => source.next());
    await commands.next('blpop');
    commands.reset();
    await enqueue(redis, queues, model, 'lone', 1);
    const enqueueCommands = commands.count;
    const asleepAgain = commands.next('blpop');
    const first = await Promise.race(slots);
    expect(first?.job.data.tenant).toBe('lone');
    // Until the intake sleeps on the bell again: the other 15 slots would look meanwhile, if
    // each looked on its own.
    await asleepAgain;
    // The take (bell, tenant list, job), then one empty look and the wait: about 8, where every
    // slot looking for itself cost over 30.
    expect(commands.count - enqueueCommands).toBeLessThan(12);
    await first?.complete();
  });

  it('serves a never-seen tenant on its command connection, opening none for it', async () => {
    const waiting = source.next();
    await enqueue(redis, queues, model, 'fresh', 1);
    const taken = await waiting;
    expect(taken?.job.data.tenant).toBe('fresh');
    await taken?.complete();
    // BullMQ names the blocking connection it opens for a Worker after the queue.
    const queue = Buffer.from(tenantQueueName(model, 'fresh')).toString(
      'base64',
    );
    const clients = (await redis.client('LIST')) as string;
    expect(clients).not.toContain(queue);
  });

  it('wakes on the bell when work arrives at an idle pool', async () => {
    const asleep = spyOnCommands(bell).next('blpop');
    const waiting = bellOnly().next();
    await asleep;
    await enqueue(redis, queues, model, 'late', 1);
    const taken = await waiting;
    expect(taken?.job.data.tenant).toBe('late');
    await taken?.complete();
  });
});
