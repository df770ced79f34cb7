import {
  QUEUE_PREFIX,
  announceQueuedJob,
  tenantQueueName,
  fairKeys,
} from '@marquee/contracts/queue';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FairConsumers, type FairConsumersOptions } from './fair-consumers';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Payload {
  tenant: string;
  n: number;
}

class Retry extends Error {}

/** A promise and the function that resolves it, for a handler to tell a spec where it is. */
function milestone() {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  return { reached, resolve };
}

describe('FairConsumers (Redis)', () => {
  let redis: Redis;
  let model: string;
  const queues = new Map<string, Queue<Payload>>();
  /** Every FairConsumers made, closed after each test even when an assertion failed. */
  let made: FairConsumers<Payload>[] = [];
  const consumersOf = (
    options: Omit<FairConsumersOptions<Payload>, 'redisUrl'>,
  ) => {
    const consumers = new FairConsumers<Payload>({
      redisUrl: REDIS_URL,
      ...options,
    });
    made.push(consumers);
    return consumers;
  };

  const queue = (tenant: string) => {
    let q = queues.get(tenant);
    if (!q) {
      q = new Queue<Payload>(tenantQueueName(model, tenant), {
        connection: redis,
        prefix: QUEUE_PREFIX,
      });
      queues.set(tenant, q);
    }
    return q;
  };

  /** Enqueues the way the gateway does: the tenant's queue, its share, the bell. */
  async function enqueue(tenant: string, count: number, from = 0) {
    await (queue(tenant) as Queue).addBulk(
      Array.from({ length: count }, (_, i) => ({
        name: 'embed',
        data: { tenant, n: from + i },
        opts: { jobId: `${tenant}-${from + i}`, removeOnComplete: true },
      })),
    );
    await announceQueuedJob(redis, model, tenant, { tier: 5, weight: 1 });
  }

  beforeEach(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    model = `consumers-test-${process.pid}-${Date.now()}`;
  });

  afterEach(async () => {
    await Promise.all(made.map((c) => c.close()));
    made = [];
    for (const q of queues.values()) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    queues.clear();
    await redis.del(...fairKeys(model));
    redis.disconnect();
  });

  it('serves a tenant’s single job within a few of another tenant’s backlog, and stops cleanly', async () => {
    const served: string[] = [];
    const fourth = milestone();
    const search = milestone();
    const consumers = consumersOf({
      handle: async (job: Job<Payload>) => {
        served.push(job.data.tenant);
        if (served.length === 4) fourth.resolve();
        if (job.data.tenant === 'search') search.resolve();
        // A job holds its slot a while, as a decode does.
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    await enqueue('catalogue', 200);
    consumers.serve(model, 2);
    await fourth.reached;
    await enqueue('search', 1);
    const servedBefore = served.length;
    await search.reached;
    // Behind at most the two jobs in hand and one turn of the other tenant per slot, not its
    // backlog of ~195.
    expect(served.indexOf('search')).toBeLessThanOrEqual(servedBefore + 4);

    // Stopped: no more intake, not even when the model is served again after the stop (a model
    // load finishing during shutdown).
    await consumers.stop();
    await consumers.retire(model);
    const servedAtStop = served.length;
    consumers.serve(model, 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(served).toHaveLength(servedAtStop);

    await consumers.close();
    const left = await queue('catalogue').getWaitingCount();
    expect(left).toBe(200 - served.filter((t) => t === 'catalogue').length);
    expect(await queue('catalogue').getActiveCount()).toBe(0);
  });

  it('hands a job back to its queue when the handler asks, and fails it for good otherwise', async () => {
    let attempts = 0;
    let badInput = false;
    const bothRan = milestone();
    const consumers = consumersOf({
      handle: async (job: Job<Payload>) => {
        if (job.data.n === 0) attempts++;
        else badInput = true;
        if (attempts === 2 && badInput) bothRan.resolve();
        if (job.data.n !== 0) throw new Error('bad input');
        if (attempts === 1) throw new Retry('shutting down');
      },
      handBack: (error) => error instanceof Retry,
    });
    await enqueue('t', 2);
    consumers.serve(model, 1);
    const q = queue('t');
    await bothRan.reached;
    // Closing waits for the job in hand to be settled.
    await consumers.close();
    expect(attempts).toBe(2); // handed back, then taken again and completed
    expect(await q.getFailedCount()).toBe(1);
    expect((await q.getFailed())[0]?.failedReason).toBe('bad input');
  });

  it('retire waits for the job in hand and takes no more', async () => {
    let finished = 0;
    let started = 0;
    const first = milestone();
    const consumers = consumersOf({
      handle: async () => {
        started++;
        first.resolve();
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished++;
      },
    });
    await enqueue('t', 5);
    consumers.serve(model, 1);
    await first.reached;
    await consumers.retire(model);
    expect(finished).toBe(started);
    expect(started).toBe(1);
    expect(await queue('t').getWaitingCount()).toBe(4);
    await consumers.close();
  });
});
