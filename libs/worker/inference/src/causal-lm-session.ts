import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from './float16';
import { InferenceError } from './inference-error';
import { KvCache, type KvDtype, type KvLayer, type KvLayout } from './kv-cache';
import { createSession } from './onnx-session';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

/** One forward pass over a batch of equally long sequences. */
export interface ForwardInput {
  /** New tokens, [batch][seq]. */
  inputIds: readonly (readonly number[])[];
  /** 1 for every position to attend to, [batch][past + seq]; default all ones. */
  attentionMask?: readonly (readonly number[])[];
  /** Absolute positions of the new tokens, [batch][seq]; default past .. past + seq - 1. */
  positionIds?: readonly (readonly number[])[];
  /** Cache of the earlier positions; default empty. */
  past?: KvCache;
  /**
   * What the new tokens are: `prefill`, prompt tokens (all of a prompt or one chunk of it), or
   * `decode`, each row's last generated token. Attention treats both alike, so ONNX models ignore
   * it; the echo model reads it to know where a prompt ends. Default `prefill`.
   */
  phase?: 'prefill' | 'decode';
}

/** Logits (always fp32) and the cache to pass as `past` to the next step. */
export interface ForwardOutput {
  /** Row-major logits of shape `logitsDims`. */
  logits: Float32Array;
  /** [batch, seq, vocab], or [batch, 1, vocab] with `lastPositionOnly`. */
  logitsDims: [number, number, number];
  present: KvCache;
}

/**
 * An ONNX Runtime session over a causal LM in Hugging Face Optimum's layout (`input_ids`,
 * `attention_mask`, `position_ids`, `past_key_values.{i}.key/value` in; `logits`,
 * `present.{i}.key/value` out), fp32 or fp16. Stateless between calls: callers own the KV cache.
 */
export class CausalLmSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Shape and dtype of the KV cache this model reads and writes. */
    readonly kvLayout: KvLayout,
    /** Where the graph runs (`cpu` after a configured fallback). */
    readonly executionProvider: ExecutionProvider,
  ) {}

  /** Loads `model.onnx` from a model folder; reads `config.json` for shapes the graph leaves symbolic. */
  static async load(
    modelDir: string,
    options: TextGeneratorOptions = {},
  ): Promise<CausalLmSession> {
    const { session, executionProvider } = await createSession(
      join(modelDir, 'model.onnx'),
      options,
    );
    const config = JSON.parse(
      await readFile(join(modelDir, 'config.json'), 'utf8'),
    ) as Record<string, unknown>;
    return new CausalLmSession(
      session,
      CausalLmSession.readLayout(session, config),
      executionProvider,
    );
  }

  private static readLayout(
    session: ort.InferenceSession,
    config: Record<string, unknown>,
  ): KvLayout {
    const pastKeys = session.inputMetadata.filter((m) =>
      /^past_key_values\.\d+\.key$/.test(m.name),
    );
    const num = (...keys: string[]) =>
      keys
        .map((k) => config[k])
        .find((v): v is number => typeof v === 'number');
    const first = pastKeys[0];
    const shape = first?.isTensor ? first.shape : [];
    const attentionHeads = num('num_attention_heads', 'n_head');
    const hidden = num('hidden_size', 'n_embd');
    const heads =
      typeof shape[1] === 'number'
        ? shape[1]
        : (num('num_key_value_heads') ?? attentionHeads);
    const headDim =
      typeof shape[3] === 'number'
        ? shape[3]
        : (num('head_dim') ??
          (hidden && attentionHeads ? hidden / attentionHeads : undefined));
    const type = first?.isTensor ? first.type : undefined;
    if (
      !pastKeys.length ||
      !heads ||
      !headDim ||
      (type !== 'float32' && type !== 'float16')
    ) {
      throw new InferenceError(
        'model_error',
        'model.onnx has no usable past_key_values inputs (fp32/fp16 with KV cache expected)',
      );
    }
    return { layers: pastKeys.length, heads, headDim, dtype: type as KvDtype };
  }

  /** Names of the graph's inputs. */
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Runs the model once. With `lastPositionOnly`, only each row's last logits are returned (cheaper for fp16). */
  async forward(
    input: ForwardInput,
    lastPositionOnly = false,
  ): Promise<ForwardOutput> {
    const batch = input.inputIds.length;
    const seq = input.inputIds[0]?.length ?? 0;
    const past = input.past ?? KvCache.empty(this.kvLayout, batch);
    const total = past.length + seq;
    const int64 = (
      rows: readonly (readonly number[])[],
      width: number,
      fill: (row: number, col: number) => number,
    ) => {
      const data = new BigInt64Array(batch * width);
      for (let b = 0; b < batch; b++)
        for (let i = 0; i < width; i++)
          data[b * width + i] = BigInt(rows[b]?.[i] ?? fill(b, i));
      return new ort.Tensor('int64', data, [batch, width]);
    };
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(input.inputIds, seq, () => 0),
    };
    const names = new Set(this.session.inputNames);
    if (names.has('attention_mask'))
      feeds['attention_mask'] = int64(
        input.attentionMask ?? [],
        total,
        () => 1,
      );
    if (names.has('position_ids'))
      feeds['position_ids'] = int64(
        input.positionIds ?? [],
        seq,
        (_, i) => past.length + i,
      );
    if (names.has('use_cache_branch'))
      feeds['use_cache_branch'] = new ort.Tensor(
        'bool',
        [past.length > 0],
        [1],
      );
    past.layers.forEach((layer, i) => {
      feeds[`past_key_values.${i}.key`] = layer.key;
      feeds[`past_key_values.${i}.value`] = layer.value;
    });

    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds);
    } catch (error) {
      throw new InferenceError(
        'model_error',
        `model run failed: ${(error as Error).message}`,
      );
    }
    const present: KvLayer[] = Array.from(
      { length: this.kvLayout.layers },
      (_, i) => ({
        key: results[`present.${i}.key`],
        value: results[`present.${i}.value`],
      }),
    );
    const logitsTensor = results['logits'];
    const [, outSeq, vocab] = logitsTensor.dims as number[];
    const raw = logitsTensor.data as Float32Array | Uint16Array;
    const logits = lastPositionOnly
      ? CausalLmSession.lastRows(raw, batch, outSeq, vocab)
      : raw;
    return {
      logits: logits instanceof Uint16Array ? float16ToFloat32(logits) : logits,
      logitsDims: [batch, lastPositionOnly ? 1 : outSeq, vocab],
      present: KvCache.fromLayers(this.kvLayout, present),
    };
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }

  private static lastRows<T extends Float32Array | Uint16Array>(
    raw: T,
    batch: number,
    seq: number,
    vocab: number,
  ): T {
    if (seq === 1) return raw;
    const out = new (raw.constructor as new (n: number) => T)(batch * vocab);
    for (let b = 0; b < batch; b++)
      out.set(
        raw.subarray((b * seq + seq - 1) * vocab, (b * seq + seq) * vocab),
        b * vocab,
      );
    return out;
  }
}
