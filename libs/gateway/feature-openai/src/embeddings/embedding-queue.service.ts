import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  type EmbeddingJob,
  QUEUE_PREFIX,
  embeddingJobSchema,
  inferenceQueueName,
} from '@marquee/contracts/queue';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { Queue } from 'bullmq';

/**
 * Producer side of the embedding models' queues (one per model, `inferenceQueueName`). Embedding
 * jobs are short and batched on the worker, so they skip the per-tenant fair queues of generation.
 */
@Injectable()
export class EmbeddingQueue implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue<EmbeddingJob>>();

  constructor(private readonly redis: RedisConnection) {}

  /** Enqueues a job (validated against the shared schema first); job id = request id. */
  async enqueue(job: EmbeddingJob): Promise<void> {
    const payload = embeddingJobSchema.parse(job);
    await this.queue(payload.model).add('embed', payload, {
      jobId: payload.requestId,
      removeOnComplete: true,
      removeOnFail: 1000,
      attempts: 1,
    });
  }

  /** Removes a job no worker has taken yet. False when a worker already has it (or it is gone). */
  async withdraw(model: string, requestId: string): Promise<boolean> {
    try {
      return (await this.queue(model).remove(requestId)) === 1;
    } catch {
      return false;
    }
  }

  private queue(model: string): Queue<EmbeddingJob> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new Queue<EmbeddingJob>(inferenceQueueName(model), {
        connection: this.redis.client,
        prefix: QUEUE_PREFIX,
      });
      this.queues.set(model, queue);
    }
    return queue;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
