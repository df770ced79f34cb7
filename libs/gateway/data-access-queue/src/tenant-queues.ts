import {
  QUEUE_PREFIX,
  type TenantShare,
  encodeTenantShare,
  fairBellKey,
  fairTenantsKey,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import type { RedisConnection } from './redis.provider';

/** Bell entries kept at most: a wake-up signal, not a work list. */
const BELL_LENGTH = 64;

/** What {@link TenantQueues.withdraw} found. */
export type WithdrawOutcome = 'withdrawn' | 'taken' | 'gone';

/** What every queued job carries for routing. */
export interface RoutedJob {
  requestId: string;
  tenantId: string;
  model: string;
}

/**
 * The producer side of the fair queues (see `fair-queues.ts` in the queue contracts): a BullMQ
 * queue per (model, tenant), the tenant's share registered beside them and the model's bell rung
 * on every job, so workers can share a saturated pool fairly between tenants.
 */
export class TenantQueues<T extends RoutedJob> {
  private readonly queues = new Map<string, Queue<T>>();

  constructor(
    private readonly redis: RedisConnection,
    /** BullMQ job name (`infer`, `embed`): for people reading the queues. */
    private readonly jobName: string,
  ) {}

  /** Adds an already validated job; job id = request id. */
  async add(job: T, share: TenantShare): Promise<void> {
    // BullMQ's generics cannot relate a generic T to its own job-name type; the value is a T.
    await (this.queue(job.model, job.tenantId) as Queue).add(
      this.jobName,
      job,
      {
        jobId: job.requestId,
        removeOnComplete: true,
        removeOnFail: 1000,
        attempts: 1,
      },
    );
    await this.redis.client
      .multi()
      .hset(fairTenantsKey(job.model), job.tenantId, encodeTenantShare(share))
      .lpush(fairBellKey(job.model), '1')
      .ltrim(fairBellKey(job.model), 0, BELL_LENGTH - 1)
      .exec();
  }

  /**
   * Takes a job back if no worker has it: `withdrawn` (removed now), `taken` (a worker holds it
   * and will report), or `gone` (not in the queue: finished, failed or never there — no worker
   * will report on it any more).
   */
  async withdraw(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<WithdrawOutcome> {
    const queue = this.queue(model, tenantId);
    try {
      // BullMQ's remove answers 1 for a missing job too, so look first.
      if (!(await queue.getJob(requestId))) return 'gone';
      return (await queue.remove(requestId)) === 1 ? 'withdrawn' : 'taken';
    } catch {
      // remove throws for a locked job: a worker has it.
      return 'taken';
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }

  private queue(model: string, tenantId: string): Queue<T> {
    const name = tenantQueueName(model, tenantId);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<T>(name, {
        connection: this.redis.client,
        prefix: QUEUE_PREFIX,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }
}
