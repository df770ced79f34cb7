import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_FILES, readModelManifest } from '@marquee/shared/model-format';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from '../float16';
import { InferenceError } from '../inference-error';
import { createSession } from '../onnx-session';
import type { ExecutionProvider, TextGeneratorOptions } from '../types';

/** Cumulative counters, for metrics and benchmarks. */
export interface EmbedderStats {
  runs: number;
  inputs: number;
  tokens: number;
  forwardMs: number;
}

/**
 * A loaded BERT-layout encoder (`input_ids`, `attention_mask`, optional `token_type_ids` ->
 * `last_hidden_state`) and its tokenizer. One {@link run} turns a batch of token-id inputs into
 * unit-length embeddings: mean pooling over the real tokens, then L2 normalisation. Inputs are
 * right-padded, with the attention mask hiding the padding, so an input gets the vector it would
 * get alone.
 */
export class EmbeddingEncoder {
  readonly stats: EmbedderStats = {
    runs: 0,
    inputs: 0,
    tokens: 0,
    forwardMs: 0,
  };

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
  ) {}

  /**
   * Loads an encoder folder (`model.onnx`, `tokenizer.json`, `config.json`, `marquee.json` with
   * task `embedding`).
   *
   * @throws InferenceError `model_error` for a model of another task or a config without
   *   numeric `hidden_size` and `vocab_size`.
   */
  static async load(
    modelDir: string,
    options: Omit<TextGeneratorOptions, 'scheduler'>,
  ): Promise<EmbeddingEncoder> {
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
    return new EmbeddingEncoder(
      manifest.name,
      manifest.contextLength,
      hidden,
      vocab,
      executionProvider,
      session,
      new Tokenizer(tokenizerJson, tokenizerConfig),
    );
  }

  /** Tokenizes one input (with the tokenizer's own special tokens, as BERT's add [CLS]/[SEP]). */
  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  /**
   * One model run over right-padded inputs, then masked mean pooling and L2 normalisation;
   * vector `i` is input `i`'s. Inputs must be valid (non-empty, in the vocabulary, within
   * {@link contextLength}): the caller checks them.
   *
   * @throws whatever ONNX Runtime throws when the run fails.
   */
  async run(inputs: readonly (readonly number[])[]): Promise<Float32Array[]> {
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

  /** Releases the ONNX Runtime session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
