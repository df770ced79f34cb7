import {
  QUEUE_PREFIX,
  announceQueuedJob,
  fairBellKey,
  fairKeys,
  fairReadyKey,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FairJobSource, type FairJobSourceOptions } from './fair-job-source';
import { JobLockLost } from './job-lock-lost.exception';
import type { QueueProblem } from './queue-problem';
import { spyOnCommands } from './testing/redis-spy';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Longer than any test may run (Jest stops each at 30 s). */
const NEVER_MS = 10 * 60_000;

describe('FairJobSource problems (Redis)', () => {
  let redis: Redis;
  let bell: Redis;
  let queue: Queue;
  let problems: QueueProblem[];
  let listeners: ((problem: QueueProblem) => void)[];
  let sources: FairJobSource<{ n: number }>[];
  let model: string;
  const lockKey = () =>
    `${QUEUE_PREFIX}:${tenantQueueName(model, 'tenant')}:job-1:lock`;

  /** A source on the test's model whose problems land in `problems`. */
  const sourceWith = (options: Partial<FairJobSourceOptions> = {}) => {
    const source = new FairJobSource<{ n: number }>({
      model,
      connection: redis,
      bellConnection: bell,
      // Renewed every 150 ms.
      lockDurationMs: 300,
      onProblem: (problem) => {
        problems.push(problem);
        for (const listener of listeners) listener(problem);
      },
      ...options,
    });
    sources.push(source);
    return source;
  };

  /** The first problem of `kind` reported from now on. */
  const reported = (kind: QueueProblem['kind']) =>
    new Promise<QueueProblem>((resolve) =>
      listeners.push((problem) => {
        if (problem.kind === kind) resolve(problem);
      }),
    );

  beforeEach(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    bell = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    problems = [];
    listeners = [];
    sources = [];
    model = `fair-problems-${process.pid}-${Date.now()}`;
    queue = new Queue(tenantQueueName(model, 'tenant'), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    await queue.add('infer', { n: 1 }, { jobId: 'job-1' });
    await announceQueuedJob(redis, model, 'tenant', { tier: 5, weight: 1 });
  });

  afterEach(async () => {
    for (const source of sources) await source.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.del(...fairKeys(model));
    redis.disconnect();
    bell.disconnect();
  });

  it('reports a job whose lock another worker took over, and aborts its signal', async () => {
    const lost = reported('lock_lost');
    const taken = await sourceWith().next();
    expect(taken?.job.id).toBe('job-1');
    // What a stalled check elsewhere leaves: the lock is no longer this worker's.
    await redis.del(lockKey());
    expect(await lost).toMatchObject({
      model,
      tenantId: 'tenant',
      jobId: 'job-1',
    });
    expect(taken?.signal.aborted).toBe(true);
    expect(taken?.signal.reason).toBeInstanceOf(JobLockLost);
  });

  it('stops the job in hand when its lock is lost, and leaves it unsettled for the worker that runs it', async () => {
    const source = sourceWith();
    let stopped!: (reason: unknown) => void;
    const holderStopped = new Promise<unknown>(
      (resolve) => (stopped = resolve),
    );
    const consuming = source.consume(async (job, signal) => {
      await redis.del(lockKey());
      await new Promise((resolve) =>
        signal.addEventListener('abort', resolve, { once: true }),
      );
      source.stop();
      stopped(signal.reason);
    });
    expect(await holderStopped).toBeInstanceOf(JobLockLost);
    await consuming;
    // Reported once (renewals stop with the loss), and no settle was tried on a lock not held.
    expect(problems.map((p) => p.kind)).toEqual(['lock_lost']);
    expect(await queue.getJobState('job-1')).not.toBe('completed');
  });

  it('reports a job whose completion failed, without handing it back', async () => {
    // Renewed every 30 s: the lock is only gone because the test took it.
    const source = sourceWith({ lockDurationMs: 60_000 });
    const handBack = jest.fn(() => true);
    const settle = reported('job_settle_failed');
    const consuming = source.consume(
      async () => {
        await redis.del(lockKey());
        source.stop();
      },
      { handBack },
    );
    expect(await settle).toMatchObject({
      model,
      tenantId: 'tenant',
      jobId: 'job-1',
      error: expect.objectContaining({
        message: expect.stringMatching(/lock/i),
      }),
    });
    await consuming;
    expect(handBack).not.toHaveBeenCalled();
  });

  it('reports a job handed back whose tenant could not be marked ready again', async () => {
    const source = sourceWith({ lockDurationMs: 60_000 });
    const settle = reported('job_settle_failed');
    const consuming = source.consume(
      async () => {
        // The mark cannot be set: the hand-back's transaction fails inside.
        await redis.set(fairReadyKey(model), 'not-a-set');
        source.stop();
        throw new Error('shutting down');
      },
      { handBack: () => true },
    );
    expect(await settle).toMatchObject({
      tenantId: 'tenant',
      jobId: 'job-1',
      error: expect.objectContaining({
        message: expect.stringContaining('WRONGTYPE'),
      }),
    });
    await consuming;
    // Back in its queue all the same, for the marking pass to find.
    expect(await queue.getJobState('job-1')).toBe('waiting');
  });

  it('reports a look that failed once, and fails the waiting slot so it retries', async () => {
    await redis.del(fairBellKey(model));
    await redis.set(fairBellKey(model), 'not-a-list');
    const failed = reported('queue_error');
    await expect(sourceWith().next()).rejects.toThrow(/WRONGTYPE/);
    expect((await failed).error).toEqual(
      expect.objectContaining({
        message: expect.stringContaining('WRONGTYPE'),
      }),
    );
    expect(problems.filter((p) => p.kind === 'queue_error')).toHaveLength(1);
  });

  it('reports a marking pass that failed on a tenant', async () => {
    await redis.del(fairReadyKey(model));
    await redis.set(fairReadyKey(model), 'not-a-set');
    const marking = reported('marking_failed');
    // The look fails after the pass (the ready set cannot be read either); the slot is told.
    await expect(sourceWith().next()).rejects.toThrow(/WRONGTYPE/);
    expect(await marking).toMatchObject({ model, tenantId: 'tenant' });
  });

  it('reports a broken bell once per wait, and keeps serving by its periodic looks', async () => {
    const broken = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    broken.disconnect();
    const source = sourceWith({
      bellConnection: broken,
      refreshMs: 50,
      fullSweepMs: NEVER_MS,
    });
    // The job of beforeEach is taken at the first look, before any wait.
    await (await source.next())?.complete();
    const bellFailed = reported('queue_error');
    const waiting = source.next();
    await bellFailed;
    await queue.add('infer', { n: 2 }, { jobId: 'job-2' });
    await announceQueuedJob(redis, model, 'tenant', { tier: 5, weight: 1 });
    const taken = await waiting;
    expect(taken?.job.id).toBe('job-2');
    await taken?.complete();
    // Each failed wait lasts as long as a silent one (a second): a spinning loop reports
    // thousands in that time.
    expect(
      problems.filter((p) => p.kind === 'queue_error').length,
    ).toBeLessThan(5);
    expect(problems.every((p) => p.kind === 'queue_error')).toBe(true);
  });

  it('says nothing when its bell connection is closed to stop it', async () => {
    const source = sourceWith({ refreshMs: NEVER_MS, fullSweepMs: NEVER_MS });
    await (await source.next())?.complete();
    const asleep = spyOnCommands(bell).next('blpop');
    const waiting = source.next();
    await asleep;
    // What FairConsumers does to end the wait on the bell at once.
    source.stop();
    bell.disconnect();
    expect(await waiting).toBeNull();
    expect(problems).toEqual([]);
  });
});
