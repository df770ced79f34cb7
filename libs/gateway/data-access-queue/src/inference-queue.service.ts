import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  type InferenceJob,
  QUEUE_PREFIX,
  inferenceJobSchema,
  inferenceQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { RedisConnection } from './redis.provider';

/** Producer side of the per-model inference queues. */
@Injectable()
export class InferenceQueue implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue<InferenceJob>>();

  constructor(private readonly redis: RedisConnection) {}

  /**
   * Enqueues a job (validated against the shared schema first); job id = request id. `priority`:
   * 1 is served first (BullMQ's convention), from the plan's tier.
   */
  async enqueue(
    job: InferenceJob,
    options: { priority?: number } = {},
  ): Promise<void> {
    const payload = inferenceJobSchema.parse(job);
    await this.queue(payload.model).add('infer', payload, {
      jobId: payload.requestId,
      removeOnComplete: true,
      removeOnFail: 1000,
      attempts: 1,
      priority: options.priority,
    });
  }

  /** Removes a job no worker has taken yet. False when a worker already has it (or it is gone). */
  async withdraw(model: string, requestId: string): Promise<boolean> {
    try {
      const removed = await this.queue(model).remove(requestId);
      return removed === 1;
    } catch {
      return false;
    }
  }

  /** Jobs waiting per model queue this replica has used. */
  async waiting(model: string): Promise<number> {
    return this.queue(model).getWaitingCount();
  }

  private queue(model: string): Queue<InferenceJob> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new Queue<InferenceJob>(inferenceQueueName(model), {
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
