import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  QUEUE_PREFIX,
  fairTenantsKey,
  tenantQueueName,
} from '@marquee/contracts/queue';
import {
  DrainState,
  gpuMemory,
  WorkerMetrics,
} from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Queue } from 'bullmq';
import { openWorkerRedis } from '@marquee/worker/feature-fair-queue';
import type { Redis } from 'ioredis';
import { BATCH_CAPACITY, LOADED_MODELS } from './worker-health.service';

/**
 * Fills the gauges that are read, not counted, right before each scrape: queue depth per
 * model and state (from BullMQ), GPU memory on CUDA workers, the draining flag.
 */
@Injectable()
export class WorkerGauges implements OnModuleDestroy {
  private readonly redis: Redis;
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly config: WorkerConfig,
    private readonly metrics: WorkerMetrics,
    private readonly drain: DrainState,
    @Inject(LOADED_MODELS) private readonly models: () => string[],
    @Inject(BATCH_CAPACITY)
    private readonly capacity: (model: string) => number,
  ) {
    this.redis = openWorkerRedis(config.redisUrl, 'gauges', 'probe');
  }

  async refresh(): Promise<void> {
    this.metrics.draining.set(this.drain.draining ? 1 : 0);
    const models = this.models();
    for (const model of models)
      this.metrics.batchCapacity.set({ model }, this.capacity(model));
    await Promise.all(models.map((model) => this.countQueue(model)));
    if (this.config.executionProvider === 'cuda') {
      for (const gpu of await gpuMemory.current()) {
        this.metrics.gpuMemoryUsed.set({ gpu: gpu.index }, gpu.usedBytes);
        this.metrics.gpuMemoryTotal.set({ gpu: gpu.index }, gpu.totalBytes);
      }
    }
  }

  /** Sums the model's queue and every tenant queue of it (fair queueing: one per tenant). */
  private async countQueue(model: string): Promise<void> {
    try {
      const tenants = await this.redis.hkeys(fairTenantsKey(model));
      const names = tenants.flatMap((tenant) => {
        try {
          return [tenantQueueName(model, tenant)];
        } catch {
          return [];
        }
      });
      const totals = { waiting: 0, active: 0, delayed: 0 };
      for (const name of names) {
        const counts = await this.queue(name).getJobCounts(
          'waiting',
          'prioritized',
          'active',
          'delayed',
        );
        totals.waiting += (counts.waiting ?? 0) + (counts.prioritized ?? 0);
        totals.active += counts.active ?? 0;
        totals.delayed += counts.delayed ?? 0;
      }
      for (const [state, value] of Object.entries(totals))
        this.metrics.queueJobs.set({ model, state }, value);
    } catch (error) {
      // Redis down: keep the last values; readiness reports the outage.
      this.metrics.failures.report('queue.count', error, { model });
    }
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.redis, prefix: QUEUE_PREFIX });
      queue.on('error', (error) =>
        this.metrics.failures.report('queue.count', error, { queue: name }),
      );
      this.queues.set(name, queue);
    }
    return queue;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}
