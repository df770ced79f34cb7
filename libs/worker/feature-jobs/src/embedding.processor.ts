import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  type EmbeddingJob,
  QUEUE_PREFIX,
  embeddingJobSchema,
  inferenceQueueName,
} from '@marquee/contracts/queue';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelHost } from './model-host.service';
import { runEmbeddingJob } from './run-embedding-job';

/**
 * Consumes the queues of the embedding models this worker serves. Takes up to a batch's worth
 * of jobs at once; the model's embedder batches their inputs dynamically.
 */
@Injectable()
export class EmbeddingProcessor
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(EmbeddingProcessor.name);
  private readonly workers = new Map<string, Worker<EmbeddingJob>>();
  private connection: Redis | null = null;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
  ) {}

  onApplicationBootstrap(): void {
    for (const model of this.host.embeddingNames) this.serve(model);
  }

  /** Starts taking jobs for an embedding model of the host (no-op if already). */
  serve(model: string): void {
    if (this.workers.has(model)) return;
    if (!this.connection) {
      this.connection = new Redis(this.config.redisUrl, {
        maxRetriesPerRequest: null,
      });
      this.connection.on('error', (error) =>
        this.logger.warn(`redis: ${error.message}`),
      );
    }
    const worker = new Worker<EmbeddingJob>(
      inferenceQueueName(model),
      (job) => this.process(job),
      {
        connection: this.connection,
        prefix: QUEUE_PREFIX,
        concurrency: this.host.concurrency(model),
      },
    );
    worker.on('error', (error) =>
      this.logger.warn(`queue ${model}: ${error.message}`),
    );
    this.workers.set(model, worker);
  }

  /** Stops taking jobs for `model`; resolves once its running jobs have finished. */
  async retire(model: string): Promise<void> {
    const worker = this.workers.get(model);
    if (!worker) return;
    this.workers.delete(model);
    await worker.close();
  }

  private async process(job: Job<EmbeddingJob>): Promise<void> {
    const parsed = embeddingJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const embedder = this.host.embedder(payload.model);
    if (!embedder)
      throw new UnrecoverableError(`model ${payload.model} is not served here`);
    try {
      await runEmbeddingJob(
        payload,
        embedder,
        this.links.link(payload.replyTo.address),
        this.config.workerId,
      );
    } catch (error) {
      this.logger.error(
        `request ${payload.requestId} failed: ${(error as Error).message}`,
      );
      throw new UnrecoverableError('model_error');
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.connection?.disconnect();
  }
}
