import {
  QUEUE_PREFIX,
  tenantQueueName,
  fairKeys,
  removeWorkerPresence,
  writeWorkerPresence,
} from '@marquee/contracts/queue';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The gateway (QUEUE_TIMEOUT_MS 500) with no worker but the test, playing one that is announced
 * but idle, or takes a job and dies.
 */
describe('queue deadline (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let redis: Redis;
  let tenantId: string;
  let key: string;
  const model = `deadline-${process.pid}`;

  beforeAll(async () => {
    gw = await startTestGateway('deadline');
    http = new HttpClient(gw.app);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const admin = (url: string, body: unknown) =>
      http.call('POST', url, { token: gw.adminToken, body });
    tenantId = (await admin('/admin/v1/tenants', { name: 'Studio' })).body.id;
    await admin(`/admin/v1/tenants/${tenantId}/credits`, {
      amount_micros: '10000000',
    });
    await admin('/admin/v1/models', {
      name: model,
      artifact_path: `/models/${model}`,
      context_length: 64,
      input_price_per_mtok_micros: '1000',
      output_price_per_mtok_micros: '1000',
    });
    key = (await admin(`/admin/v1/tenants/${tenantId}/keys`, { name: 'k' }))
      .body.key;
  });

  const idleWorker = `deadline-${process.pid}`;

  afterAll(async () => {
    await removeWorkerPresence(redis, idleWorker);
    const queue = new Queue(tenantQueueName(model, tenantId), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.del(...fairKeys(model));
    redis.disconnect();
    await gw?.close();
  });

  const complete = () =>
    http.call('POST', '/v1/completions', {
      token: key,
      body: { model, prompt: 'a synopsis', max_tokens: 4 },
    });

  it('answers 503 no_worker_available at once, queueing nothing, when no live worker serves the model', async () => {
    const reply = await complete();
    expect(reply.status).toBe(503);
    expect(reply.body.error.code).toBe('no_worker_available');
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    const queue = new Queue(tenantQueueName(model, tenantId), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    const counts = await queue.getJobCounts('waiting', 'active', 'failed');
    await queue.close();
    expect(counts).toEqual({ waiting: 0, active: 0, failed: 0 });
  });

  it('answers 503 no_worker_available when no worker takes the job in time', async () => {
    // A worker announces the model but never takes its jobs.
    await writeWorkerPresence(
      redis,
      {
        workerId: idleWorker,
        models: [model],
        executionProvider: 'cpu',
        startedAt: Date.now(),
      },
      120,
    );
    // Past the gateway's cache of which models are served.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const reply = await complete();
    expect(reply.status).toBe(503);
    expect(reply.body.error.code).toBe('no_worker_available');
  });

  it('answers 503 worker_lost, not never, when a worker takes the job and dies without a word', async () => {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker(tenantQueueName(model, tenantId), null, {
      connection,
      prefix: QUEUE_PREFIX,
      autorun: false,
    });
    try {
      const started = Date.now();
      const pending = complete();
      // The "worker" takes the job, holds it past the queue timeout, then BullMQ gives up on it
      // (as its stalled check does with a dead worker's job): failed, with nothing reported.
      let job: Job | undefined;
      while (!job) {
        job = (await worker.getNextJob('dead-worker', { block: false })) as
          | Job
          | undefined;
        if (!job) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 800));
      await job.moveToFailed(
        new Error('job stalled more than allowable limit'),
        'dead-worker',
        false,
      );
      const reply = await pending;
      expect(reply.status).toBe(503);
      expect(reply.body.error.code).toBe('worker_lost');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});
