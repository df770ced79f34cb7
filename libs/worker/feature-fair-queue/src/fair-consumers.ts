import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FairJobSource } from './fair-job-source';
import type { QueueProblem } from './queue-problem';
import { openWorkerRedis } from './worker-redis';

export interface FairConsumersOptions<T> {
  redisUrl: string;
  /**
   * Runs one job; resolves when it is done. `signal` aborts (its reason a `JobLockLost`) when
   * this worker lost the job's lock and another may run it: stop the job then.
   */
  handle: (job: Job<T>, signal: AbortSignal) => Promise<void>;
  /** Errors after which the job goes back to its queue instead of failing. */
  handBack?: (error: unknown) => boolean;
  /** Told of each problem the intake handled on its own (see {@link QueueProblem}). */
  onProblem?: (problem: QueueProblem) => void;
}

interface ModelConsumer<T> {
  source: FairJobSource<T>;
  /** The connection its fetch loop blocks on, waiting for the bell. */
  bell: Redis;
  slots: Promise<void>[];
}

/**
 * A worker's intake: per model it serves, a {@link FairJobSource} and as many slots taking jobs
 * from it as the model runs at once. Shared by text generation and embeddings.
 */
export class FairConsumers<T> {
  private readonly consumers = new Map<string, ModelConsumer<T>>();
  private connection: Redis | null = null;
  private stopped = false;

  constructor(private readonly options: FairConsumersOptions<T>) {}

  /** Starts taking jobs for `model` with `slots` at once (no-op if already, or once stopped). */
  serve(model: string, slots: number): void {
    if (this.stopped || this.consumers.has(model)) return;
    const bell = openWorkerRedis(
      this.options.redisUrl,
      `bell:${model}`,
      'blocking',
    );
    const source = new FairJobSource<T>({
      model,
      connection: this.commands(),
      bellConnection: bell,
      onProblem: this.options.onProblem,
    });
    const { handle, handBack } = this.options;
    this.consumers.set(model, {
      source,
      bell,
      slots: Array.from({ length: slots }, () =>
        source.consume(handle, { handBack }),
      ),
    });
  }

  /**
   * Stops taking jobs for `model`; resolves once its running jobs have finished (jobs still
   * queued stay there for other workers).
   */
  async retire(model: string): Promise<void> {
    const consumer = this.consumers.get(model);
    if (!consumer) return;
    this.consumers.delete(model);
    FairConsumers.stopIntake(consumer);
    await Promise.all(consumer.slots);
    await consumer.source.close();
  }

  /**
   * Takes no more jobs for any model, now or later (a model loaded meanwhile is not served);
   * resolves once the running ones have finished.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const consumers = [...this.consumers.values()];
    for (const consumer of consumers) FairConsumers.stopIntake(consumer);
    await Promise.all(consumers.flatMap((c) => c.slots));
  }

  /** Retires every model and closes the shared connection. */
  async close(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.consumers.keys()].map((m) => this.retire(m)));
    this.connection?.disconnect();
    this.connection = null;
  }

  /** The fetch loop may be blocked on the bell for up to a second: closing it ends that at once. */
  private static stopIntake<T>(consumer: ModelConsumer<T>): void {
    consumer.source.stop();
    consumer.bell.disconnect();
  }

  private commands(): Redis {
    if (!this.connection) {
      this.connection = openWorkerRedis(
        this.options.redisUrl,
        'job-intake',
        'queue',
      );
    }
    return this.connection;
  }
}
