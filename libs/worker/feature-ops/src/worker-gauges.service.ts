import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { QUEUE_PREFIX, inferenceQueueName } from '@marquee/contracts/queue';
import {
  DrainState,
  readGpuMemory,
  WorkerMetrics,
} from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Queue } from 'bullmq';
import { BATCH_CAPACITY, LOADED_MODELS } from './worker-health.service';

/** GPU memory is read at most this often (nvidia-smi takes tens of ms). */
const GPU_REFRESH_MS = 10_000;

/**
 * Fills the gauges that are read, not counted, right before each scrape: queue depth per
 * model and state (from BullMQ), GPU memory on CUDA workers, the draining flag.
 */
@Injectable()
export class WorkerGauges implements OnModuleDestroy {
  private readonly queues: Map<string, Queue>;
  private gpuReadAt = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly metrics: WorkerMetrics,
    private readonly drain: DrainState,
    @Inject(LOADED_MODELS) models: string[],
    @Inject(BATCH_CAPACITY) capacity: (model: string) => number,
  ) {
    for (const model of models)
      metrics.batchCapacity.set({ model }, capacity(model));
    this.queues = new Map(
      models.map((model) => [
        model,
        new Queue(inferenceQueueName(model), {
          connection: { url: config.redisUrl, maxRetriesPerRequest: 1 },
          prefix: QUEUE_PREFIX,
        }),
      ]),
    );
    for (const queue of this.queues.values())
      queue.on('error', () => undefined);
  }

  async refresh(): Promise<void> {
    this.metrics.draining.set(this.drain.draining ? 1 : 0);
    await Promise.all(
      [...this.queues].map(async ([model, queue]) => {
        try {
          const counts = await queue.getJobCounts(
            'waiting',
            'prioritized',
            'active',
            'delayed',
          );
          this.metrics.queueJobs.set(
            { model, state: 'waiting' },
            (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          );
          this.metrics.queueJobs.set(
            { model, state: 'active' },
            counts.active ?? 0,
          );
          this.metrics.queueJobs.set(
            { model, state: 'delayed' },
            counts.delayed ?? 0,
          );
        } catch {
          // Redis down: keep the last values; readiness reports the outage.
        }
      }),
    );
    if (
      this.config.executionProvider === 'cuda' &&
      Date.now() - this.gpuReadAt > GPU_REFRESH_MS
    ) {
      this.gpuReadAt = Date.now();
      for (const gpu of await readGpuMemory()) {
        this.metrics.gpuMemoryUsed.set({ gpu: gpu.index }, gpu.usedBytes);
        this.metrics.gpuMemoryTotal.set({ gpu: gpu.index }, gpu.totalBytes);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
