import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  type EmbeddingJob,
  type InferenceJob,
  type TenantShare,
  embeddingJobSchema,
  inferenceJobSchema,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';
import { TenantQueues, type WithdrawOutcome } from './tenant-queues';

/** Share of a tenant whose plan says nothing: the lowest tier, weight 1. */
const DEFAULT_SHARE: TenantShare = { tier: 5, weight: 1 };

/** Producer side of the text-generation queues: one BullMQ queue per (model, tenant). */
@Injectable()
export class InferenceQueue implements OnModuleDestroy {
  private readonly queues: TenantQueues<InferenceJob>;

  constructor(redis: RedisConnection) {
    this.queues = new TenantQueues(redis, 'infer');
  }

  /**
   * Enqueues a job (validated against the shared schema first) on its tenant's queue for the
   * model; job id = request id. Registers the tenant's share and wakes idle workers.
   */
  async enqueue(job: InferenceJob, share = DEFAULT_SHARE): Promise<void> {
    await this.queues.add(inferenceJobSchema.parse(job), share);
  }

  /** Takes a job back if no worker has it (see {@link TenantQueues.withdraw}). */
  withdraw(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<WithdrawOutcome> {
    return this.queues.withdraw(model, tenantId, requestId);
  }

  async onModuleDestroy(): Promise<void> {
    await this.queues.close();
  }
}

/**
 * Producer side of the embedding models' queues: per (model, tenant) like generation, so one
 * tenant embedding a whole catalogue does not hold up another's single query.
 */
@Injectable()
export class EmbeddingQueue implements OnModuleDestroy {
  private readonly queues: TenantQueues<EmbeddingJob>;

  constructor(redis: RedisConnection) {
    this.queues = new TenantQueues(redis, 'embed');
  }

  /** Enqueues a job (validated against the shared schema first); job id = request id. */
  async enqueue(job: EmbeddingJob, share = DEFAULT_SHARE): Promise<void> {
    await this.queues.add(embeddingJobSchema.parse(job), share);
  }

  /** Takes a job back if no worker has it (see {@link TenantQueues.withdraw}). */
  withdraw(
    model: string,
    tenantId: string,
    requestId: string,
  ): Promise<WithdrawOutcome> {
    return this.queues.withdraw(model, tenantId, requestId);
  }

  async onModuleDestroy(): Promise<void> {
    await this.queues.close();
  }
}
