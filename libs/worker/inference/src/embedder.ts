import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_FILES, readModelManifest } from '@marquee/shared/model-format';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from './float16';
import { InferenceError } from './inference-error';
import { createSession } from './onnx-session';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

/** Dynamic batching of embedding inputs. */
export interface EmbedderBatching {
  /** Most inputs in one model run. Default 32. */
  maxBatchSize: number;
  /** Milliseconds the first queued input waits for others before a run starts. Default 2. */
  maxDelayMs: number;
  /** Most tokens (padding included: batch x longest input) in one run. Default 16384. */
  maxBatchTokens: number;
}

/** How to load an encoder model folder. */
export interface EmbedderOptions
  extends Omit<TextGeneratorOptions, 'scheduler'> {
  batching?: Partial<EmbedderBatching>;
}

interface Queued {
  ids: readonly number[];
  resolve: (vector: Float32Array) => void;
  reject: (error: unknown) => void;
}

/** Cumulative counters, for metrics and benchmarks. */
export interface EmbedderStats {
  runs: number;
  inputs: number;
  tokens: number;
  forwardMs: number;
}

/**
 * A loaded BERT-layout encoder (`input_ids`, `attention_mask`, optional `token_type_ids` ->
 * `last_hidden_state`) that turns token ids into unit-length embeddings: mean pooling over the
 * real tokens, then L2 normalisation. Inputs of concurrent calls are batched dynamically (up to
 * `maxBatchSize` inputs or `maxBatchTokens`, waiting at most `maxDelayMs`), right-padded, with
 * the attention mask hiding the padding, so an input gets the vector it would get alone.
 */
export class Embedder {
  readonly batching: EmbedderBatching;
  readonly stats: EmbedderStats = {
    runs: 0,
    inputs: 0,
    tokens: 0,
    forwardMs: 0,
  };
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  private constructor(
    /** Model name from `marquee.json`. */
    readonly name: string,
    /** Longest input in tokens. */
    readonly contextLength: number,
    /** Length of every vector (the hidden size). */
    readonly dimensions: number,
    readonly vocabSize: number,
    readonly executionProvider: ExecutionProvider,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    batching: Partial<EmbedderBatching>,
  ) {
    this.batching = {
      maxBatchSize: batching.maxBatchSize ?? 32,
      maxDelayMs: batching.maxDelayMs ?? 2,
      maxBatchTokens: batching.maxBatchTokens ?? 16384,
    };
  }

  /** Loads an encoder folder (`model.onnx`, `tokenizer.json`, `config.json`, `marquee.json` with task `embedding`). */
  static async load(
    modelDir: string,
    options: EmbedderOptions = {},
  ): Promise<Embedder> {
    const manifest = await readModelManifest(modelDir);
    if (manifest.task !== 'embedding')
      throw new InferenceError(
        'model_error',
        `${manifest.name} is a ${manifest.task} model, not embedding`,
      );
    const read = async (file: string) =>
      JSON.parse(await readFile(join(modelDir, file), 'utf8')) as Record<
        string,
        unknown
      >;
    const [config, tokenizerJson, tokenizerConfig] = await Promise.all([
      read(MODEL_FILES.config),
      read(MODEL_FILES.tokenizer),
      read(MODEL_FILES.tokenizerConfig).catch(() => ({})),
    ]);
    const hidden = config['hidden_size'];
    const vocab = config['vocab_size'];
    if (typeof hidden !== 'number' || typeof vocab !== 'number')
      throw new InferenceError(
        'model_error',
        `${MODEL_FILES.config} of ${manifest.name} needs numeric hidden_size and vocab_size`,
      );
    const { session, executionProvider } = await createSession(
      join(modelDir, MODEL_FILES.onnx),
      options,
    );
    return new Embedder(
      manifest.name,
      manifest.contextLength,
      hidden,
      vocab,
      executionProvider,
      session,
      new Tokenizer(tokenizerJson, tokenizerConfig),
      options.batching ?? {},
    );
  }

  /** Tokenizes one input (with the tokenizer's own special tokens, as BERT's add [CLS]/[SEP]). */
  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  /**
   * Embeds token-id inputs; vector `i` is input `i`'s. Inputs share model runs with those of
   * other concurrent calls.
   *
   * @throws InferenceError `invalid_prompt` (param `input`) for an empty input, ids outside the
   *   vocabulary, or an input longer than {@link contextLength}; `model_error` when ONNX Runtime fails.
   */
  async embed(inputs: readonly (readonly number[])[]): Promise<Float32Array[]> {
    inputs.forEach((ids, i) => this.validate(ids, inputs.length > 1 ? i : -1));
    return Promise.all(
      inputs.map(
        (ids) =>
          new Promise<Float32Array>((resolve, reject) => {
            this.queue.push({ ids, resolve, reject });
            this.schedule();
          }),
      ),
    );
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.session.release();
  }

  private validate(ids: readonly number[], index: number): void {
    const which = index >= 0 ? `Input ${index}` : 'The input';
    const fail = (message: string) => {
      throw new InferenceError('invalid_prompt', message, 'input');
    };
    if (ids.length === 0) fail(`${which} is empty.`);
    if (ids.length > this.contextLength)
      fail(
        `${which} has ${ids.length} tokens; this model's maximum input length is ${this.contextLength} tokens.`,
      );
    if (
      ids.some((id) => !Number.isInteger(id) || id < 0 || id >= this.vocabSize)
    )
      fail(`Token ids must be integers from 0 to ${this.vocabSize - 1}.`);
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
      const vectors = await this.forward(batch.map((q) => q.ids));
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

  /** One model run over right-padded inputs, then masked mean pooling and L2 normalisation. */
  private async forward(
    inputs: readonly (readonly number[])[],
  ): Promise<Float32Array[]> {
    const started = performance.now();
    const batch = inputs.length;
    const width = Math.max(...inputs.map((ids) => ids.length));
    const ids = new BigInt64Array(batch * width);
    const mask = new BigInt64Array(batch * width);
    inputs.forEach((row, b) =>
      row.forEach((id, i) => {
        ids[b * width + i] = BigInt(id);
        mask[b * width + i] = 1n;
      }),
    );
    const dims = [batch, width];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', mask, dims),
    };
    if (this.session.inputNames.includes('token_type_ids'))
      feeds['token_type_ids'] = new ort.Tensor(
        'int64',
        new BigInt64Array(batch * width),
        dims,
      );
    const output = (await this.session.run(feeds))['last_hidden_state'];
    const raw = output.data as Float32Array | Uint16Array;
    const hidden = raw instanceof Uint16Array ? float16ToFloat32(raw) : raw;
    const E = this.dimensions;
    const vectors = inputs.map((row, b) => {
      const sum = new Float64Array(E);
      for (let t = 0; t < row.length; t++) {
        const base = (b * width + t) * E;
        for (let e = 0; e < E; e++) sum[e] += hidden[base + e];
      }
      let norm = 0;
      for (let e = 0; e < E; e++) norm += sum[e] * sum[e];
      // Mean pooling then L2: the 1/length factor cancels in the normalisation.
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      return Float32Array.from(sum, (v) => v * inv);
    });
    this.stats.runs++;
    this.stats.inputs += batch;
    this.stats.tokens += inputs.reduce((s, r) => s + r.length, 0);
    this.stats.forwardMs += performance.now() - started;
    return vectors;
  }
}
