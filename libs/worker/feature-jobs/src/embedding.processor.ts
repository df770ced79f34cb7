import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import {
  type EmbeddingJob,
  embeddingJobSchema,
} from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import { FairConsumers } from '@marquee/worker/feature-fair-queue';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import type { Job } from 'bullmq';
import { ModelHost } from './model-host.service';
import { runEmbeddingJob } from './run-embedding-job';
import { reportQueueProblems } from './queue-problems';
import { UsageRecorder } from './usage-recorder.service';
import { WorkerPresenceReporter } from './worker-presence.reporter';

/**
 * Consumes the queues of the embedding models this worker serves, from the tenants' queues in
 * fair order like text generation. Takes up to a batch's worth of jobs at once; the model's
 * embedder batches their inputs dynamically.
 */
@Injectable()
export class EmbeddingProcessor
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(EmbeddingProcessor.name);
  private readonly consumers: FairConsumers<EmbeddingJob>;
  private running = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
    private readonly recorder: UsageRecorder,
    presence: WorkerPresenceReporter,
    @Optional() metrics?: WorkerMetrics,
  ) {
    presence.countRunning(() => this.running);
    this.consumers = new FairConsumers<EmbeddingJob>({
      redisUrl: config.redisUrl,
      handle: async (job) => {
        this.running++;
        try {
          await this.process(job);
        } finally {
          this.running--;
        }
      },
      onError: (error) => this.logger.warn(`queue: ${error.message}`),
      onProblem: reportQueueProblems(this.logger, metrics),
    });
  }

  onApplicationBootstrap(): void {
    for (const model of this.host.embeddingNames) this.serve(model);
  }

  /** Starts taking jobs for an embedding model of the host (no-op if already). */
  serve(model: string): void {
    this.consumers.serve(model, this.host.concurrency(model));
  }

  /** Stops taking jobs for `model`; resolves once its running jobs have finished. */
  retire(model: string): Promise<void> {
    return this.consumers.retire(model);
  }

  /**
   * Takes no more jobs; resolves once the running ones have finished, or at `graceMs` (jobs still
   * running then fail as the models close; embedding jobs take milliseconds, so this is rare).
   */
  async drain(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.consumers.stop(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  private async process(job: Job<EmbeddingJob>): Promise<void> {
    const parsed = embeddingJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new Error(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const embedder = this.host.embedder(payload.model);
    if (!embedder) throw new Error(`model ${payload.model} is not served here`);
    try {
      await runEmbeddingJob(
        payload,
        embedder,
        this.links.link(payload.replyTo.address),
        this.config.workerId,
        (usage) =>
          this.recorder.record({ ...payload, endpoint: 'embeddings' }, usage),
      );
    } catch (error) {
      this.logger.error(
        `request ${payload.requestId} failed: ${(error as Error).message}`,
      );
      throw new Error('model_error');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumers.close();
  }
}
