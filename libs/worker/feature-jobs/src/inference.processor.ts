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
import { FairJobSource } from '@marquee/worker/feature-fair-queue';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { JobDrainer } from './job-drainer';
import { ModelHost } from './model-host.service';
import { runJob } from './run-job';

/** A job to put back on its queue for another worker (shutdown before it streamed anything). */
class HandBack extends Error {}

/** A job that retrying cannot fix. */
class JobFailed extends Error {}

interface ModelConsumer {
  source: FairJobSource<InferenceJob>;
  bell: Redis;
  slots: Promise<void>[];
}

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
  /** Per model served: its fair source, the bell connection it sleeps on, and its slots. */
  private readonly consumers = new Map<string, ModelConsumer>();
  private readonly active = new Map<string, AbortController>();
  private connection: Redis | null = null;
  private readonly drainer: JobDrainer;
  private draining = false;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
    @Optional() metrics?: WorkerMetrics,
  ) {
    this.drainer = new JobDrainer(metrics);
    links.onCancel((requestId) => this.active.get(requestId)?.abort());
    links.reportActiveRequests(() => this.active.size);
  }

  onApplicationBootstrap(): void {
    for (const model of this.host.names) this.serve(model);
  }

  /** Starts taking jobs for a text-generation model of the host (no-op if already, or draining). */
  serve(model: string): void {
    if (this.draining || this.consumers.has(model)) return;
    const bell = new Redis(this.config.redisUrl, {
      maxRetriesPerRequest: null,
    });
    bell.on('error', () => undefined);
    const source = new FairJobSource<InferenceJob>({
      model,
      connection: this.commands(),
      bellConnection: bell,
    });
    // As many jobs in flight as the model's batch holds: they all share its scheduler.
    const slots = Array.from({ length: this.host.concurrency(model) }, () =>
      this.slot(source),
    );
    this.consumers.set(model, { source, bell, slots });
  }

  /**
   * Stops taking jobs for `model` and resolves once its running jobs have finished (jobs still
   * queued stay there for other workers). The caller then frees the model.
   */
  async retire(model: string): Promise<void> {
    const consumer = this.consumers.get(model);
    if (!consumer) return;
    this.consumers.delete(model);
    this.stopIntake(consumer);
    await Promise.all(consumer.slots);
    await consumer.source.close();
  }

  /**
   * No more jobs from this consumer. Its idle slots all wait on the one bell connection, where
   * blocking pops queue behind each other (a second each): closing it ends them at once.
   */
  private stopIntake(consumer: ModelConsumer): void {
    consumer.source.stop();
    consumer.bell.disconnect();
  }

  private commands(): Redis {
    if (!this.connection) {
      this.connection = new Redis(this.config.redisUrl, {
        maxRetriesPerRequest: null,
      });
      this.connection.on('error', (error) =>
        this.logger.warn(`redis: ${error.message}`),
      );
    }
    return this.connection;
  }

  /** One unit of concurrency: take the next fair job, run it, settle it with the queue. */
  private async slot(source: FairJobSource<InferenceJob>): Promise<void> {
    for (;;) {
      const taken = await source.next().catch((error: Error) => {
        this.logger.warn(`queue: ${error.message}`);
        return undefined;
      });
      if (taken === null) return;
      if (taken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      try {
        await this.process(taken.job);
        await taken.complete();
      } catch (error) {
        await taken
          .fail(error as Error, error instanceof HandBack)
          .catch(() => undefined);
      }
    }
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
    const consumers = [...this.consumers.values()];
    for (const consumer of consumers) this.stopIntake(consumer);
    const closing = Promise.all(consumers.flatMap((c) => c.slots));
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
    await Promise.all([...this.consumers.keys()].map((m) => this.retire(m)));
    this.connection?.disconnect();
    await this.host.dispose();
  }
}
