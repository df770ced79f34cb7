import { randomUUID } from 'node:crypto';
import { QUEUE_PREFIX, tenantQueueName } from '@marquee/contracts/queue';
import {
  type BackendFactory,
  createRedisBackend,
  type Job,
  type RedisQueueBackend,
  Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobBell } from './job-bell';
import { type FairJob, JobLease } from './job-lease';
import type { ReportProblem } from './queue-problem';

/**
 * BullMQ gives each Worker two connections of its own (a copy of the one passed and one for
 * blocking waits): two new connections, and a first job tens of milliseconds late, for every
 * tenant a worker meets. Ours never block (the bell does the waiting, and jobs are taken with
 * `block: false`), so every tenant's Worker works on the source's one command connection.
 */
const sharedConnectionBackend: BackendFactory<RedisQueueBackend> = (
  name,
  opts,
) =>
  createRedisBackend(name, opts, {
    blocking: false,
    withBlockingConnection: false,
  });

export interface TenantQueuesOptions {
  model: string;
  connection: Redis;
  /** A job's lock lives this long unless renewed, ms. */
  lockDurationMs: number;
  bell: JobBell;
  report: ReportProblem;
}

/**
 * The model's per-tenant queues as this worker sees them: a BullMQ Worker for each tenant met
 * (never run: it only takes jobs when asked, and runs the stalled check that brings a dead
 * worker's jobs back), and the jobs taken from them, held under lease.
 */
export class TenantQueues<T> {
  private readonly workers = new Map<string, Worker<T>>();

  constructor(private readonly options: TenantQueuesOptions) {}

  /**
   * Takes up to `count` jobs of `tenantId` at once (one round trip) and gives each to `serve`;
   * how many it gave (fewer: the queue ran dry). When a fetch fails, the jobs the others took are
   * still given (left here, they would sit locked and unrun) before the error is thrown.
   */
  async take(
    tenantId: string,
    count: number,
    serve: (job: FairJob<T>) => void,
  ): Promise<number> {
    const worker = this.watch(tenantId);
    const { lockDurationMs, report, bell } = this.options;
    const fetched = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const token = randomUUID();
        const job = (await worker.getNextJob(token, { block: false })) as
          | Job<T>
          | undefined;
        return job
          ? new JobLease(job, tenantId, token, {
              lockDurationMs,
              report,
              announce: (tenant) => bell.ring(tenant),
            })
          : null;
      }),
    );
    let given = 0;
    for (const result of fetched)
      if (result.status === 'fulfilled' && result.value) {
        serve(result.value);
        given++;
      }
    const failed = fetched.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return given;
  }

  /**
   * The tenant's Worker, made on first use: from then on its stalled check puts a crashed
   * worker's jobs of that tenant back in the queue.
   */
  watch(tenantId: string): Worker<T> {
    let worker = this.workers.get(tenantId);
    if (worker) return worker;
    const { model, connection, lockDurationMs, bell, report } = this.options;
    worker = new Worker<T>(
      tenantQueueName(model, tenantId),
      null,
      {
        connection,
        prefix: QUEUE_PREFIX,
        lockDuration: lockDurationMs,
        stalledInterval: lockDurationMs / 2,
        autorun: false,
      },
      sharedConnectionBackend,
    );
    worker.on('error', (error) => report('queue_error', { tenantId, error }));
    // Its stalled check put a dead worker's job back in the queue: mark the tenant and ring.
    worker.on('stalled', () => {
      void bell
        .ring(tenantId)
        .catch((error: unknown) =>
          report('stalled_ring_failed', { tenantId, error }),
        );
    });
    void worker
      .startStalledCheckTimer()
      .catch((error: unknown) => report('queue_error', { tenantId, error }));
    this.workers.set(tenantId, worker);
    return worker;
  }

  /** Releases the tenants' Workers (after the taken jobs finished). */
  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
  }
}
