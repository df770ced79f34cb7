import {
  QUEUE_PREFIX,
  announceQueuedJob,
  fairKeys,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FairJobSource } from './fair-job-source';
import type { QueueProblem } from './queue-problem';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('FairJobSource problems (Redis)', () => {
  let redis: Redis;
  let bell: Redis;
  let queue: Queue;
  let source: FairJobSource<{ n: number }>;
  const problems: QueueProblem[] = [];
  const model = `fair-problems-${process.pid}-${Date.now()}`;

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(tenantQueueName(model, 'tenant'), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    source = new FairJobSource({
      model,
      connection: redis,
      bellConnection: bell,
      // Renewed every 150 ms.
      lockDurationMs: 300,
      onProblem: (problem) => problems.push(problem),
    });
    await queue.add('infer', { n: 1 }, { jobId: 'job-1' });
    await announceQueuedJob(redis, model, 'tenant', { tier: 5, weight: 1 });
  });

  afterEach(async () => {
    await source.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.del(...fairKeys(model));
    redis.disconnect();
    bell.disconnect();
  });

  const until = async (what: () => boolean) => {
    for (let i = 0; i < 40 && !what(); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return what();
  };

  it('reports a job whose lock another worker took over, instead of renewing it in silence', async () => {
    const taken = await source.next();
    expect(taken?.job.id).toBe('job-1');
    // What a stalled check elsewhere leaves: the lock is no longer this worker's.
    await redis.del(
      `${QUEUE_PREFIX}:${tenantQueueName(model, 'tenant')}:job-1:lock`,
    );
    expect(
      await until(() => problems.some((p) => p.kind === 'lock_lost')),
    ).toBe(true);
    expect(problems.find((p) => p.kind === 'lock_lost')).toMatchObject({
      model,
      tenantId: 'tenant',
      jobId: 'job-1',
    });
  });
});
