import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  createRegistry,
  LATENCY_BUCKETS,
  QUEUE_WAIT_BUCKETS,
} from './metrics-registry';
import { HandledFailures } from './handled-failures';

/** The worker's Prometheus metrics (served on METRICS_PORT at `/metrics`). */
@Injectable()
export class WorkerMetrics {
  readonly registry: Registry = createRegistry('worker');

  /** Filled at scrape time from BullMQ's counts (see the worker's ops module). */
  readonly queueJobs = new Gauge({
    name: 'marquee_queue_jobs',
    help: 'Jobs in a model queue by state (waiting includes prioritized)',
    labelNames: ['model', 'state'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'marquee_queue_wait_seconds',
    help: 'From the gateway enqueueing a job to a worker starting it',
    labelNames: ['model'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'marquee_worker_job_duration_seconds',
    help: 'Time a job spent running on this worker',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly queueProblems = new Counter({
    name: 'marquee_worker_queue_problems_total',
    help: 'Problems the job intake handled on its own, by kind (lock_lost, lock_renewal_failed, job_settle_failed, marking_failed, stalled_ring_failed, queue_error: a failed take, bell wait or look)',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });

  readonly handledFailureCount = new Counter({
    name: 'marquee_worker_handled_failures_total',
    help: 'Failures the worker handled on its own (a fallback or a retry), by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  /** Reports failures handled with a fallback: counted here, logged once per outage. */
  readonly failures = new HandledFailures(
    this.handledFailureCount,
    new Logger('HandledFailures'),
  );

  readonly jobs = new Counter({
    name: 'marquee_worker_jobs_total',
    help: 'Jobs this worker ended, by outcome (completed, failed, handed_back)',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly tokensGenerated = new Counter({
    name: 'marquee_worker_tokens_generated_total',
    help: 'Tokens generated on this worker',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly activeSequences = new Gauge({
    name: 'marquee_worker_active_sequences',
    help: 'Requests currently running on this worker',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly batchCapacity = new Gauge({
    name: 'marquee_worker_batch_capacity',
    help: 'Most requests this worker runs at once per model (occupancy = active / capacity)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly gpuMemoryUsed = new Gauge({
    name: 'marquee_gpu_memory_used_bytes',
    help: 'GPU memory in use (nvidia-smi), on CUDA workers',
    labelNames: ['gpu'] as const,
    registers: [this.registry],
  });

  readonly gpuMemoryTotal = new Gauge({
    name: 'marquee_gpu_memory_total_bytes',
    help: 'GPU memory size (nvidia-smi), on CUDA workers',
    labelNames: ['gpu'] as const,
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'marquee_draining',
    help: '1 while this process is shutting down',
    registers: [this.registry],
  });

  /** Records a job starting: its queue wait (from `enqueuedAt`, unix ms) and one more active. */
  jobStarted(model: string, enqueuedAt: number): void {
    this.queueWait.observe(
      { model },
      Math.max(0, Date.now() - enqueuedAt) / 1000,
    );
    this.activeSequences.inc({ model });
  }

  /** Records a job ending on this worker. */
  jobEnded(
    model: string,
    outcome: 'completed' | 'failed' | 'handed_back',
    startedAt: number,
  ): void {
    this.activeSequences.dec({ model });
    this.jobs.inc({ model, outcome });
    this.jobDuration.observe({ model }, (Date.now() - startedAt) / 1000);
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return {
      contentType: this.registry.contentType,
      body: await this.registry.metrics(),
    };
  }
}
