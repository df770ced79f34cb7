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
/** Lone jobs of B in the quiet case. */
const QUIET_SAMPLES = 21;

interface Payload {
  tenant: string;
  enqueuedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits of B's lone jobs, one after the other (each enqueued once the last was taken). */
async function fair(flood: boolean, samples: number): Promise<number[]> {
  const model = `bench-fair-${process.pid}-${Date.now()}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = new Map<string, Queue>();
  const enqueue = async (tenant: string, count: number) => {
    let queue = queues.get(tenant);
    if (!queue) {
      queue = new Queue(tenantQueueName(model, tenant), {
        connection: redis,
        prefix: QUEUE_PREFIX,
      });
      await queue.waitUntilReady();
      queues.set(tenant, queue);
    }
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
  const waits: number[] = [];
  let taken: () => void = () => undefined;
  const slots = Array.from({ length: SLOTS }, async () => {
    while (waits.length < samples) {
      const job = await source.next();
      if (!job) return;
      if (job.job.data.tenant === 'tenant-b') {
        waits.push(Date.now() - job.job.data.enqueuedAt);
        taken();
      }
      await sleep(JOB_MS);
      await job.complete();
    }
  });
  await sleep(200); // the pool is saturated with A's work when B arrives
  for (let i = 0; i < samples; i++) {
    const next = new Promise<void>((resolve) => (taken = resolve));
    await enqueue('tenant-b', 1);
    await Promise.race([next, sleep(120_000)]);
    await sleep(JOB_MS * 2);
  }
  source.stop();
  await Promise.race([Promise.all(slots), sleep(5_000)]);
  await source.close();
  for (const queue of queues.values())
    await queue.obliterate({ force: true }).catch(() => undefined);
  await Promise.all([...queues.values()].map((q) => q.close()));
  await redis.del(...fairKeys(model));
  redis.disconnect();
  bell.disconnect();
  return waits;
}

async function fifo(flood: boolean, samples: number): Promise<number[]> {
  const name = `bench-fifo-${process.pid}-${Date.now()}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<Payload>(name, {
    connection: redis,
    prefix: QUEUE_PREFIX,
  });
  await queue.waitUntilReady();
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
  const waits: number[] = [];
  let taken: () => void = () => undefined;
  const worker = new Worker<Payload>(
    name,
    async (job) => {
      if (job.data.tenant === 'tenant-b') {
        waits.push(Date.now() - job.data.enqueuedAt);
        taken();
      }
      await sleep(JOB_MS);
    },
    { connection: redis, prefix: QUEUE_PREFIX, concurrency: SLOTS },
  );
  await sleep(200);
  for (let i = 0; i < samples; i++) {
    const next = new Promise<void>((resolve) => (taken = resolve));
    await queue.add(
      'infer',
      { tenant: 'tenant-b', enqueuedAt: Date.now() },
      { removeOnComplete: true },
    );
    await Promise.race([next, sleep(120_000)]);
    await sleep(JOB_MS * 2);
  }
  await worker.close(true);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  redis.disconnect();
  return waits;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? -1;

/** The quiet case, as a tenant sees it: its first job ever, then the median of the rest. */
function quiet(waits: number[]) {
  return {
    firstJob: waits[0] ?? -1,
    medianAfter: median(waits.slice(1)),
    waits,
  };
}

async function main(): Promise<void> {
  const report = startReport('npm run bench:fairness');
  // Interleaved, so machine noise hits both policies alike.
  const fairQuiet = quiet(await fair(false, QUIET_SAMPLES));
  const fifoQuiet = quiet(await fifo(false, QUIET_SAMPLES));
  const fairFlooded = (await fair(true, 1))[0] ?? -1;
  const fifoFlooded = (await fifo(true, 1))[0] ?? -1;
  const results = {
    fair: { quiet: fairQuiet, flooded: fairFlooded },
    fifo: { quiet: fifoQuiet, flooded: fifoFlooded },
  };
  report.write(
    'fairness.json',
    {
      setup: {
        slots: SLOTS,
        jobMs: JOB_MS,
        floodJobs: FLOOD,
        oneBatchMs: JOB_MS,
        quietSamples: QUIET_SAMPLES,
      },
      waitOfTenantBMs: results,
      note: 'Quiet: B alone sends one job at a time, each once the last was taken; its first job (a tenant the worker has never seen) apart, then the median of the rest. Flooded: B enqueues one job 200 ms after A saturated the slots with 1,000. One batch of work = one JOB_MS per slot.',
    },
    {
      'fair quiet (first job / median after)': `${fairQuiet.firstJob} / ${fairQuiet.medianAfter} ms`,
      'fifo quiet (first job / median after)': `${fifoQuiet.firstJob} / ${fifoQuiet.medianAfter} ms`,
      'fair flooded': `${fairFlooded} ms`,
      'fifo flooded': `${fifoFlooded} ms`,
    },
  );
}

void main();
