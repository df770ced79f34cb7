import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  type InferenceJob,
  QUEUE_PREFIX,
  type TenantShare,
  encodeTenantShare,
  fairBellKey,
  fairTenantsKey,
  inferenceJobSchema,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { RedisConnection } from './redis.provider';

/** Bell entries kept at most: a wake-up signal, not a work list. */
const BELL_LENGTH = 64;

/**
 * Producer side of the inference queues: one BullMQ queue per (model, tenant), so workers can
 * share a saturated pool fairly between tenants (see `fair-queues.ts` in the queue contracts).
 */
@Injectable()
export class InferenceQueue implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue<InferenceJob>>();

  constructor(private readonly redis: RedisConnection) {}

  /**
   * Enqueues a job (validated against the shared schema first) on its tenant's queue for the
   * model; job id = request id. Registers the tenant's share and wakes idle workers.
   */
  async enqueue(
    job: InferenceJob,
    share: TenantShare = { tier: 5, weight: 1 },
  ): Promise<void> {
    const payload = inferenceJobSchema.parse(job);
    await this.queue(payload.model, payload.tenantId).add('infer', payload, {
      jobId: payload.requestId,
      removeOnComplete: true,
      removeOnFail: 1000,
      attempts: 1,
    });
    await this.redis.client
      .multi()
      .hset(
        fairTenantsKey(payload.model),
        payload.tenantId,
        encodeTenantShare(share),
      )
      .lpush(fairBellKey(payload.model), '1')
      .ltrim(fairBellKey(payload.model), 0, BELL_LENGTH - 1)
      .exec();
  }

  /** Removes a job no worker has taken yet. False when a worker already has it (or it is gone). */
  async withdraw(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<boolean> {
    try {
      return (await this.queue(model, tenantId).remove(requestId)) === 1;
    } catch {
      return false;
    }
  }

  private queue(model: string, tenantId: string): Queue<InferenceJob> {
    const name = tenantQueueName(model, tenantId);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<InferenceJob>(name, {
        connection: this.redis.client,
        prefix: QUEUE_PREFIX,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
