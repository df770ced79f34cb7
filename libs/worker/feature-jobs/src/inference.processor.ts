import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { RequestFailureCode } from '@marquee/contracts/proto';
import {
  type InferenceJob,
  QUEUE_PREFIX,
  inferenceJobSchema,
  inferenceQueueName,
} from '@marquee/contracts/queue';
import { InferenceError, type TextGenerator } from '@marquee/worker/inference';
import { GatewayLinkPool } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelHost } from './model-host.service';
import { runJob } from './run-job';

/**
 * Consumes the queues of the models this worker serves and runs each job in the engine,
 * reporting to the gateway named in the job. Takes up to a batch's worth of jobs per model at
 * once; the model's scheduler batches them step by step.
 */
@Injectable()
export class InferenceProcessor
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(InferenceProcessor.name);
  private readonly workers: Worker[] = [];
  private readonly active = new Map<string, AbortController>();
  private connection: Redis | null = null;

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
    private readonly links: GatewayLinkPool,
  ) {
    links.onCancel((requestId) => this.active.get(requestId)?.abort());
    links.reportActiveRequests(() => this.active.size);
  }

  onApplicationBootstrap(): void {
    this.connection = new Redis(this.config.redisUrl, {
      maxRetriesPerRequest: null,
    });
    this.connection.on('error', (error) =>
      this.logger.warn(`redis: ${error.message}`),
    );
    for (const model of this.host.names) {
      // As many jobs in flight as the model's batch holds: they all share its scheduler.
      const worker = new Worker<InferenceJob>(
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
      this.workers.push(worker);
    }
  }

  private async process(job: Job<InferenceJob>): Promise<void> {
    const parsed = inferenceJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `invalid job payload: ${parsed.error.issues[0]?.message}`,
      );
    const payload = parsed.data;
    const generator = this.host.get(payload.model);
    if (!generator)
      throw new UnrecoverableError(`model ${payload.model} is not served here`);
    const link = this.links.link(payload.replyTo.address);
    const abort = new AbortController();
    this.active.set(payload.requestId, abort);
    try {
      await runJob(
        payload,
        generator as TextGenerator,
        link,
        this.config.workerId,
        abort.signal,
      );
    } catch (error) {
      const code: RequestFailureCode =
        error instanceof InferenceError ? error.code : 'model_error';
      this.logger.error(`request ${payload.requestId} failed: ${code}`);
      throw new UnrecoverableError(code);
    } finally {
      this.active.delete(payload.requestId);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    this.connection?.disconnect();
    await this.host.dispose();
  }
}
