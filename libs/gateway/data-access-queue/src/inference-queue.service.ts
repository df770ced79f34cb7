import { Injectable } from '@nestjs/common';
import {
  type EmbeddingJob,
  type InferenceJob,
  embeddingJobSchema,
  inferenceJobSchema,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';
import { TenantQueues } from './tenant-queues';

/** Producer side of the text-generation queues: one BullMQ queue per (model, tenant). */
@Injectable()
export class InferenceQueue extends TenantQueues<InferenceJob> {
  constructor(redis: RedisConnection) {
    super(redis, 'infer', inferenceJobSchema);
  }
}

/**
 * Producer side of the embedding models' queues: per (model, tenant) like generation, so one
 * tenant embedding a whole catalogue does not hold up another's single query.
 */
@Injectable()
export class EmbeddingQueue extends TenantQueues<EmbeddingJob> {
  constructor(redis: RedisConnection) {
    super(redis, 'embed', embeddingJobSchema);
  }
}
