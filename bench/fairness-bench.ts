/**
 * `npm run bench:fairness`: how long tenant B's single request waits for a worker slot, with and
 * without tenant A's flood of 1,000 queued jobs, under Marquee's fair job source (per-tenant
 * queues, weighted deficit round-robin) and under one shared first-come-first-served queue
 * (what a plain BullMQ queue per model gives). Real Redis and BullMQ; each job holds a worker
 * slot for JOB_MS to stand in for a decode batch, so the numbers isolate the queueing policy.
 */
import {
  QUEUE_PREFIX,
  announceQueuedJob,
  tenantQueueName,
  fairKeys,
} from '@marquee/contracts/queue';
import { FairJobSource } from '@marquee/worker/feature-fair-queue';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startReport } from './bench-report';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SLOTS = 8;
const JOB_MS = 20;
const FLOOD = 1000;

interface Payload {
  tenant: string;
  enqueuedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fair(flood: boolean): Promise<number> {
  const model = `bench-fair-${process.pid}-${Date.now()}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues: Queue[] = [];
  const enqueue = async (tenant: string, count: number) => {
    const queue = new Queue(tenantQueueName(model, tenant), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    queues.push(queue);
    const now = Date.now();
    await queue.addBulk(
      Array.from({ length: count }, () => ({
        name: 'infer',
        data: { tenant, enqueuedAt: now },
        opts: { removeOnComplete: true },
      })),
    );
    await announceQueuedJob(redis, model, tenant, { tier: 5, weight: 1 });
  };
  const source = new FairJobSource<Payload>({
    model,
    connection: redis,
    bellConnection: bell,
  });
  if (flood) await enqueue('tenant-a', FLOOD);
  let waited = -1;
  const slots = Array.from({ length: SLOTS }, async () => {
    while (waited < 0) {
      const taken = await source.next();
      if (!taken) return;
      if (taken.job.data.tenant === 'tenant-b')
        waited = Date.now() - taken.job.data.enqueuedAt;
      await sleep(JOB_MS);
      await taken.complete();
    }
  });
  await sleep(200); // the pool is saturated with A's work when B arrives
  await enqueue('tenant-b', 1);
  await Promise.race([Promise.all(slots), sleep(120_000)]);
  source.stop();
  await source.close();
  for (const queue of queues)
    await queue.obliterate({ force: true }).catch(() => undefined);
  await Promise.all(queues.map((q) => q.close()));
  await redis.del(...fairKeys(model));
  redis.disconnect();
  bell.disconnect();
  return waited;
}

async function fifo(flood: boolean): Promise<number> {
  const name = `bench-fifo-${process.pid}-${Date.now()}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<Payload>(name, {
    connection: redis,
    prefix: QUEUE_PREFIX,
  });
  if (flood) {
    const now = Date.now();
    await queue.addBulk(
      Array.from({ length: FLOOD }, () => ({
        name: 'infer',
        data: { tenant: 'tenant-a', enqueuedAt: now },
        opts: { removeOnComplete: true },
      })),
    );
  }
  let waited = -1;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const worker = new Worker<Payload>(
    name,
    async (job) => {
      if (job.data.tenant === 'tenant-b') {
        waited = Date.now() - job.data.enqueuedAt;
        resolveDone();
      }
      await sleep(JOB_MS);
    },
    { connection: redis, prefix: QUEUE_PREFIX, concurrency: SLOTS },
  );
  await sleep(200);
  await queue.add(
    'infer',
    { tenant: 'tenant-b', enqueuedAt: Date.now() },
    { removeOnComplete: true },
  );
  await Promise.race([done, sleep(120_000)]);
  await worker.close(true);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
  return waited;
}

async function main(): Promise<void> {
  const report = startReport('npm run bench:fairness');
  const results = {
    fair: { quiet: await fair(false), flooded: await fair(true) },
    fifo: { quiet: await fifo(false), flooded: await fifo(true) },
  };
  report.write(
    'fairness.json',
    {
      setup: {
        slots: SLOTS,
        jobMs: JOB_MS,
        floodJobs: FLOOD,
        oneBatchMs: JOB_MS,
      },
      waitOfTenantBMs: results,
      note: 'B enqueues one job 200 ms after A (flooded) saturated the slots. One batch of work = one JOB_MS per slot.',
    },
    results,
  );
}

void main();
