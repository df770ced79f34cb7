import { InferenceError } from '../inference-error';

/** Dynamic batching of embedding inputs. */
export interface EmbedderBatching {
  /** Most inputs in one model run. Default 32. */
  maxBatchSize: number;
  /** Milliseconds the first queued input waits for others before a run starts. Default 2. */
  maxDelayMs: number;
  /** Most tokens (padding included: batch x longest input) in one run. Default 16384. */
  maxBatchTokens: number;
}

/** One model run over a batch of token-id inputs; vector `i` is input `i`'s. */
export type EmbeddingRun = (
  inputs: readonly (readonly number[])[],
) => Promise<Float32Array[]>;

interface Queued {
  ids: readonly number[];
  resolve: (vector: Float32Array) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the inputs of concurrent calls into model runs, one run at a time. A run starts once
 * `maxBatchSize` inputs wait, or `maxDelayMs` after the first one queued, and takes inputs in
 * arrival order up to `maxBatchSize` of them and `maxBatchTokens` padded tokens.
 */
export class EmbeddingBatcher {
  readonly batching: EmbedderBatching;
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly runModel: EmbeddingRun,
    batching: Partial<EmbedderBatching> = {},
  ) {
    this.batching = {
      maxBatchSize: batching.maxBatchSize ?? 32,
      maxDelayMs: batching.maxDelayMs ?? 2,
      maxBatchTokens: batching.maxBatchTokens ?? 16384,
    };
  }

  /**
   * Queues one input; resolves with its vector once its run is done.
   *
   * @throws InferenceError what the run threw if an InferenceError, else `model_error`; every
   *   input of a failed run fails with it.
   */
  add(ids: readonly number[]): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      this.queue.push({ ids, resolve, reject });
      this.schedule();
    });
  }

  /** Cancels the pending batching window (used when the model is released). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.batching.maxBatchSize) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch();
    } else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.runBatch();
      }, this.batching.maxDelayMs);
  }

  private async runBatch(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch: Queued[] = [];
    let longest = 0;
    while (this.queue.length > 0 && batch.length < this.batching.maxBatchSize) {
      const width = Math.max(longest, this.queue[0].ids.length);
      if (
        batch.length > 0 &&
        width * (batch.length + 1) > this.batching.maxBatchTokens
      )
        break;
      batch.push(this.queue.shift() as Queued);
      longest = width;
    }
    try {
      const vectors = await this.runModel(batch.map((q) => q.ids));
      batch.forEach((q, i) => q.resolve(vectors[i]));
    } catch (error) {
      const failure =
        error instanceof InferenceError
          ? error
          : new InferenceError(
              'model_error',
              `model run failed: ${(error as Error).message}`,
            );
      for (const q of batch) q.reject(failure);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
