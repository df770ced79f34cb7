import {
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { WorkerMetrics } from '@marquee/shared/util-observability';
import { FairConsumers } from '@marquee/worker/feature-fair-queue';
import type {
  ModelHost,
  WorkerPresenceReporter,
} from '@marquee/worker/feature-models';
import type { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import type { WorkerConfig } from '@marquee/worker/util-config';
import { type JobKind, JobProcessing, type QueuedJob } from './job-processing';
import { reportQueueProblems } from './queue-problems';
import type { UsageRecorder } from './usage-recorder.service';

/** What a processor needs from the worker around it. */
export interface QueueProcessorDeps {
  config: WorkerConfig;
  host: ModelHost;
  links: GatewayLinkPool;
  recorder: UsageRecorder;
  presence: WorkerPresenceReporter;
  metrics?: WorkerMetrics;
}

/**
 * Consumes the queues of one kind of model this worker serves, from the tenants' queues in fair
 * order (tier, then weighted round-robin), up to a batch's worth per model at once, and processes
 * each job the one way ({@link JobProcessing}). Text generation and embeddings differ only in
 * their {@link JobKind} and which of the host's models they serve.
 */
export abstract class QueueProcessor<J extends QueuedJob, M>
  implements OnApplicationBootstrap, OnModuleDestroy
{
  protected readonly logger: Logger;
  private readonly consumers: FairConsumers<J>;
  private readonly processing: JobProcessing<J, M>;

  protected constructor(
    name: string,
    kind: JobKind<J, M>,
    protected readonly deps: QueueProcessorDeps,
  ) {
    this.logger = new Logger(name);
    this.processing = new JobProcessing(kind, {
      links: deps.links,
      recorder: deps.recorder,
      logger: this.logger,
      metrics: deps.metrics,
    });
    this.consumers = new FairConsumers<J>({
      redisUrl: deps.config.redisUrl,
      handle: (job, lockLost) => this.processing.process(job, lockLost),
      handBack: JobProcessing.isHandBack,
      // A failed take is reported as a `queue_error` problem: not logged twice.
      onProblem: reportQueueProblems(this.logger, deps.metrics),
    });
    deps.presence.countRunning(() => this.processing.running);
  }

  /** Names of the host's models this processor serves. */
  protected abstract servedModels(): readonly string[];

  onApplicationBootstrap(): void {
    for (const model of this.servedModels()) this.serve(model);
  }

  /** Starts taking jobs for a model of the host (no-op if already, or once draining). */
  serve(model: string): void {
    // As many jobs in flight as the model's batch holds: they all share its scheduler.
    this.consumers.serve(model, this.deps.host.concurrency(model));
  }

  /**
   * Stops taking jobs for `model` and resolves once its running jobs have finished (jobs still
   * queued stay there for other workers). The caller then frees the model.
   */
  retire(model: string): Promise<void> {
    return this.consumers.retire(model);
  }

  /**
   * Stops taking jobs and lets running ones finish; at `graceMs` the rest are handed back to
   * the queue (or end as `worker_lost` if they already streamed). Call before closing the app.
   */
  async drain(graceMs: number): Promise<void> {
    const closing = this.consumers.stop();
    const deadline = setTimeout(() => this.processing.abortAll(), graceMs);
    await closing;
    clearTimeout(deadline);
  }

  /** Jobs running on this worker now. */
  get running(): number {
    return this.processing.running;
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumers.close();
  }
}
