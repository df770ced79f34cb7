import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  type ForwardInput,
  type ForwardOutput,
  logitsOf,
  readKvLayout,
  stepInputs,
} from './causal-lm-io';
import { InferenceError } from './inference-error';
import { hostLayers, KvCache, type KvLayer, type KvLayout } from './kv-cache';
import { createSession } from './onnx-session';
import type { ExecutionProvider, TextGeneratorOptions } from './types';

export type { ForwardInput, ForwardOutput } from './causal-lm-io';

/**
 * An ONNX Runtime session over a causal LM in Hugging Face Optimum's layout (`input_ids`,
 * `attention_mask`, `position_ids`, `past_key_values.{i}.key/value` in; `logits`,
 * `present.{i}.key/value` out), fp32 or fp16, run by `onnxruntime-node`: the KV cache is copied
 * from and back to host memory at every step. Stateless between calls: callers own the KV cache.
 */
export class CausalLmSession {
  /** Which ONNX Runtime binding runs the graph. */
  readonly runtime = 'onnxruntime-node';

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
    const layout = readKvLayout(
      session.inputMetadata.map((m) => ({
        name: m.name,
        ...(m.isTensor ? { type: m.type, shape: m.shape } : { shape: [] }),
      })),
      await readModelConfig(modelDir),
    );
    return new CausalLmSession(session, layout, executionProvider);
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
    const past = input.past ?? KvCache.empty(this.kvLayout, batch);
    const names = new Set(this.session.inputNames);
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, { dims, data }] of Object.entries(
      stepInputs(input, past.length, names),
    ))
      feeds[name] = new ort.Tensor('int64', data, dims);
    if (names.has('use_cache_branch'))
      feeds['use_cache_branch'] = new ort.Tensor(
        'bool',
        [past.length > 0],
        [1],
      );
    hostLayers(past).forEach((layer, i) => {
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
    const present: KvLayer<ort.Tensor>[] = Array.from(
      { length: this.kvLayout.layers },
      (_, i) => ({
        key: results[`present.${i}.key`],
        value: results[`present.${i}.value`],
      }),
    );
    const logits = results['logits'];
    return {
      ...logitsOf(
        logits.data as Float32Array | Uint16Array,
        logits.dims,
        lastPositionOnly,
      ),
      present: KvCache.fromLayers(this.kvLayout, present),
    };
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A model folder's `config.json`. */
export async function readModelConfig(
  modelDir: string,
): Promise<Record<string, unknown>> {
  return JSON.parse(
    await readFile(join(modelDir, 'config.json'), 'utf8'),
  ) as Record<string, unknown>;
}
