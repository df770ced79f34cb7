import type { OnModuleDestroy } from '@nestjs/common';
import {
  QUEUE_PREFIX,
  type TenantShare,
  announceQueuedJob,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import type { RedisConnection } from './redis.provider';

/** What {@link TenantQueues.withdraw} found. */
export type WithdrawOutcome = 'withdrawn' | 'taken' | 'gone';

/** What every queued job carries for routing. */
export interface RoutedJob {
  requestId: string;
  tenantId: string;
  model: string;
}

/** Share of a tenant whose plan says nothing: the lowest tier, weight 1. */
const DEFAULT_SHARE: TenantShare = { tier: 5, weight: 1 };

/**
 * The producer side of the fair queues (see `fair-queues.ts` in the queue contracts): a BullMQ
 * queue per (model, tenant), the tenant's share registered beside them and the model's bell rung
 * on every job, so workers can share a saturated pool fairly between tenants. One subclass per
 * kind of job.
 */
export abstract class TenantQueues<T extends RoutedJob>
  implements OnModuleDestroy
{
  private readonly queues = new Map<string, Queue<T>>();

  protected constructor(
    private readonly redis: RedisConnection,
    /** BullMQ job name (`infer`, `embed`): for people reading the queues. */
    private readonly jobName: string,
    /** The shared schema both ends validate a job with. */
    private readonly schema: { parse(value: unknown): T },
  ) {}

  /**
   * Enqueues a job (validated against the shared schema first) on its tenant's queue for the
   * model; job id = request id. Registers the tenant's share and wakes idle workers.
   */
  async enqueue(input: T, share = DEFAULT_SHARE): Promise<void> {
    const job = this.schema.parse(input);
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
    try {
      await announceQueuedJob(
        this.redis.client,
        job.model,
        job.tenantId,
        share,
      );
    } catch (error) {
      // The caller answers 503: take the unannounced job back so no worker runs it unseen.
      await this.withdraw(job.model, job.tenantId, job.requestId);
      throw error;
    }
  }

  /**
   * Takes a job back if no worker has it: `withdrawn` (removed now), `taken` (a worker holds it
   * and will report), or `gone` (finished, failed or never there: no worker will report on it
   * any more). Rejects when Redis cannot be asked; the caller decides what that means.
   */
  async withdraw(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<WithdrawOutcome> {
    const queue = this.queue(model, tenantId);
    // BullMQ's remove answers 1 for a missing or ended job too, so look first; it answers 0
    // for a job a worker has locked meanwhile.
    const state = await this.liveState(queue, requestId);
    if (state === null) return 'gone';
    if (state === 'active') return 'taken';
    return (await queue.remove(requestId)) === 1 ? 'withdrawn' : 'taken';
  }

  /** Whether the job is still waiting or held by a worker (not ended, not lost). */
  async exists(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<boolean> {
    return (
      (await this.liveState(this.queue(model, tenantId), requestId)) !== null
    );
  }

  /** A job's state while it may still run (waiting, delayed, active...); null once ended or missing. */
  private async liveState(
    queue: Queue<T>,
    requestId: string,
  ): Promise<string | null> {
    const job = await queue.getJob(requestId);
    if (!job) return null;
    const state = await job.getState();
    return state === 'completed' || state === 'failed' || state === 'unknown'
      ? null
      : state;
  }

  async onModuleDestroy(): Promise<void> {
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
