import {
  EmbeddingBatcher,
  type EmbedderBatching,
} from './embedding/embedding-batcher';
import {
  EmbeddingEncoder,
  type EmbedderStats,
} from './embedding/embedding-encoder';
import { InferenceError } from './inference-error';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

export type { EmbedderBatching } from './embedding/embedding-batcher';
export type { EmbedderStats } from './embedding/embedding-encoder';

/** How to load an encoder model folder. */
export interface EmbedderOptions
  extends Omit<TextGeneratorOptions, 'scheduler'> {
  batching?: Partial<EmbedderBatching>;
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
  readonly stats: EmbedderStats;
  /** Model name from `marquee.json`. */
  readonly name: string;
  /** Longest input in tokens. */
  readonly contextLength: number;
  /** Length of every vector (the hidden size). */
  readonly dimensions: number;
  readonly vocabSize: number;
  readonly executionProvider: ExecutionProvider;
  private readonly batcher: EmbeddingBatcher;

  private constructor(
    private readonly encoder: EmbeddingEncoder,
    batching: Partial<EmbedderBatching>,
  ) {
    this.name = encoder.name;
    this.contextLength = encoder.contextLength;
    this.dimensions = encoder.dimensions;
    this.vocabSize = encoder.vocabSize;
    this.executionProvider = encoder.executionProvider;
    this.stats = encoder.stats;
    this.batcher = new EmbeddingBatcher(
      (inputs) => encoder.run(inputs),
      batching,
    );
    this.batching = this.batcher.batching;
  }

  /** Loads an encoder folder (`model.onnx`, `tokenizer.json`, `config.json`, `marquee.json` with task `embedding`). */
  static async load(
    modelDir: string,
    options: EmbedderOptions = {},
  ): Promise<Embedder> {
    const encoder = await EmbeddingEncoder.load(modelDir, options);
    return new Embedder(encoder, options.batching ?? {});
  }

  /** Tokenizes one input (with the tokenizer's own special tokens, as BERT's add [CLS]/[SEP]). */
  encode(text: string): number[] {
    return this.encoder.encode(text);
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
    return Promise.all(inputs.map((ids) => this.batcher.add(ids)));
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    this.batcher.stop();
    await this.encoder.release();
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
}
