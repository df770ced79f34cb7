import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import type { RequestFailureCode } from '@marquee/contracts/proto';
import {
  type InferenceJob,
  inferenceJobSchema,
} from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import { InferenceError, type TextGenerator } from '@marquee/worker/inference';
import { FairConsumers } from '@marquee/worker/feature-fair-queue';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import type { Job } from 'bullmq';
import { JobDrainer } from './job-drainer';
import { ModelHost } from './model-host.service';
import { runJob } from './run-job';

/** A job to put back on its queue for another worker (shutdown before it streamed anything). */
class HandBack extends Error {}

/** A job that retrying cannot fix. */
class JobFailed extends Error {}

/**
 * Consumes the queues of the models this worker serves and runs each job in the engine,
 * reporting to the gateway named in the job. Jobs come from the tenants' queues in fair order
 * (tier, then weighted round-robin); up to a batch's worth per model run at once, and the
 * model's scheduler batches them step by step.
 */
@Injectable()
export class InferenceProcessor
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(InferenceProcessor.name);
  private readonly consumers: FairConsumers<InferenceJob>;
  private readonly active = new Map<string, AbortController>();
  private readonly drainer: JobDrainer;
  private draining = false;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
    @Optional() metrics?: WorkerMetrics,
  ) {
    this.drainer = new JobDrainer(metrics);
    this.consumers = new FairConsumers<InferenceJob>({
      redisUrl: config.redisUrl,
      handle: (job) => this.process(job),
      handBack: (error) => error instanceof HandBack,
      onError: (error) => this.logger.warn(`queue: ${error.message}`),
    });
    links.onCancel((requestId) => this.active.get(requestId)?.abort());
    links.reportActiveRequests(() => this.active.size);
  }

  onApplicationBootstrap(): void {
    for (const model of this.host.names) this.serve(model);
  }

  /** Starts taking jobs for a text-generation model of the host (no-op if already, or draining). */
  serve(model: string): void {
    if (this.draining) return;
    // As many jobs in flight as the model's batch holds: they all share its scheduler.
    this.consumers.serve(model, this.host.concurrency(model));
  }

  /**
   * Stops taking jobs for `model` and resolves once its running jobs have finished (jobs still
   * queued stay there for other workers). The caller then frees the model.
   */
  retire(model: string): Promise<void> {
    return this.consumers.retire(model);
  }

  private async process(job: Job<InferenceJob>): Promise<void> {
    const parsed = inferenceJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new JobFailed(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const generator = this.host.get(payload.model);
    if (!generator)
      throw new JobFailed(`model ${payload.model} is not served here`);
    const link = this.links.link(payload.replyTo.address);
    const abort = new AbortController();
    this.active.set(payload.requestId, abort);
    const tracked = this.drainer.track(payload, abort, link);
    try {
      await runJob(
        payload,
        generator as TextGenerator,
        tracked.sink,
        this.config.workerId,
        abort.signal,
      );
    } catch (error) {
      if (tracked.handedBack) {
        // Shutdown deadline, nothing streamed yet: back to the queue for another worker.
        throw new HandBack(payload.requestId);
      }
      const code: RequestFailureCode =
        error instanceof InferenceError ? error.code : 'model_error';
      this.logger.error(`request ${payload.requestId} failed: ${code}`);
      throw new JobFailed(code);
    } finally {
      this.active.delete(payload.requestId);
      tracked.done();
    }
  }

  /**
   * Stops taking jobs and lets running ones finish; at `graceMs` the rest are handed back to
   * the queue (or end as `worker_lost` if they already streamed). Call before closing the app.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closing = this.consumers.stop();
    const deadline = setTimeout(() => {
      const { handedBack, lost } = this.drainer.abortAll();
      if (handedBack + lost > 0)
        this.logger.warn({ handedBack, lost }, 'drain deadline reached');
    }, graceMs);
    await closing;
    clearTimeout(deadline);
  }

  /** Jobs running on this worker now. */
  get running(): number {
    return this.drainer.size;
  }

  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    await this.consumers.close();
    await this.host.dispose();
  }
}
