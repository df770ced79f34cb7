import { join } from 'node:path';
import {
  type ForwardInput,
  type ForwardOutput,
  logitsOf,
  readKvLayout,
  stepInputs,
} from '../causal-lm-io';
import { CausalLmSession, readModelConfig } from '../causal-lm-session';
import { InferenceError } from '../inference-error';
import {
  KvCache,
  type KvLayer,
  type KvLayout,
  type KvStorage,
} from '../kv-cache';
import { openOnProvider } from '../onnx-session';
import type { ExecutionProvider, TextGeneratorOptions } from '../types';
import {
  type DeviceTensor,
  type HostTensor,
  type NativeSession,
  type OrtAddon,
  type OutputPlacement,
  loadOrtAddon,
  ortAddonPath,
} from './ort-addon';

/** A KV tensor of the addon: in device memory, or an empty host tensor (no past). */
type NativeKvTensor = DeviceTensor | HostTensor;

/** Inputs the addon feeds; a graph that needs others runs on onnxruntime-node. */
const NATIVE_INPUT =
  /^(input_ids|attention_mask|position_ids|past_key_values\.\d+\.(key|value))$/;

/**
 * A causal LM (Hugging Face Optimum's layout, as {@link CausalLmSession} reads it) run through
 * Marquee's ONNX Runtime addon with IO binding: each step's `present.*` stays in the session's
 * device memory (GPU memory on CUDA) and is bound as the next step's `past_key_values.*`, so the
 * KV cache never crosses to the host; batches are composed from rows of other caches on the
 * device (`gather`), and only the logits the scheduler samples from (each row's last position,
 * widened to fp32 in native code) come back. Runs leave the event loop free (`runAsync`). Same
 * inputs, same outputs as {@link CausalLmSession}.
 */
export class NativeCausalLm {
  /** Which ONNX Runtime binding runs the graph. */
  readonly runtime = 'addon';
  private readonly storage: KvStorage<NativeKvTensor>;
  private readonly names: ReadonlySet<string>;

  private constructor(
    private readonly session: NativeSession,
    /** Shape and dtype of the KV cache this model reads and writes. */
    readonly kvLayout: KvLayout,
    /** Where the graph runs (`cpu` after a configured fallback). */
    readonly executionProvider: ExecutionProvider,
  ) {
    this.names = new Set(session.inputNames);
    this.storage = deviceKvStorage(session);
  }

  /**
   * Loads `model.onnx` from a model folder on the configured provider (with the same CPU
   * fallback rules as onnxruntime-node sessions).
   *
   * @throws InferenceError `model_error` when the addon is not built, the model cannot load, or
   *   the graph takes an input the addon does not feed.
   */
  static async load(
    modelDir: string,
    options: TextGeneratorOptions = {},
    addon: OrtAddon | undefined = loadOrtAddon(),
  ): Promise<NativeCausalLm> {
    if (!addon)
      throw new InferenceError(
        'model_error',
        `the ONNX Runtime addon is not built at ${ortAddonPath()} (npm run build:addon)`,
      );
    const path = join(modelDir, 'model.onnx');
    const { session, executionProvider } = await openOnProvider(
      path,
      options,
      (provider) =>
        new addon.NativeSession(path, {
          provider,
          ...(options.intraOpThreads
            ? { intraOpThreads: options.intraOpThreads }
            : {}),
        }),
    );
    const types = session.inputTypes;
    const other = session.inputNames.find((name) => !NATIVE_INPUT.test(name));
    if (other) {
      session.release();
      throw new InferenceError(
        'model_error',
        `the ONNX Runtime addon does not feed the graph input ${other}`,
      );
    }
    const layout = readKvLayout(
      session.inputNames.map((name) => ({
        name,
        type: types[name].type,
        shape: types[name].dims,
      })),
      await readModelConfig(modelDir),
    );
    try {
      // Composing batches needs the device's copy routines (on CUDA, the CUDA runtime): a model
      // that could not gather is found out now, not by its first requests.
      session
        .gather(layout.dtype, [0, layout.heads, 0, layout.headDim], [], [], [])
        .release();
    } catch (error) {
      session.release();
      throw new InferenceError(
        'model_error',
        `the ONNX Runtime addon cannot move KV rows on ${executionProvider}: ${(error as Error).message}`,
      );
    }
    return new NativeCausalLm(session, layout, executionProvider);
  }

  /** Runs the model once. With `lastPositionOnly`, only each row's last logits are returned. */
  async forward(
    input: ForwardInput,
    lastPositionOnly = false,
  ): Promise<ForwardOutput> {
    const batch = input.inputIds.length;
    const past =
      input.past ?? KvCache.empty(this.kvLayout, batch, this.storage);
    if (past.storage !== this.storage)
      throw new InferenceError(
        'model_error',
        "this KV cache is not in this model's device memory",
      );
    const feeds: Record<string, HostTensor | DeviceTensor> = {};
    for (const [name, { dims, data }] of Object.entries(
      stepInputs(input, past.length, this.names),
    ))
      feeds[name] = { type: 'int64', dims, data };
    // The scheduler samples from each row's last position only: just those cross to the host.
    const outputs: Record<string, OutputPlacement> = {
      logits: lastPositionOnly ? 'last-float32' : 'host',
    };
    (past.layers as readonly KvLayer<NativeKvTensor>[]).forEach((layer, i) => {
      feeds[`past_key_values.${i}.key`] = layer.key;
      feeds[`past_key_values.${i}.value`] = layer.value;
      outputs[`present.${i}.key`] = 'device';
      outputs[`present.${i}.value`] = 'device';
    });
    let results: Record<string, HostTensor['data'] | DeviceTensor>;
    try {
      results = await this.session.runAsync(feeds, outputs);
    } catch (error) {
      throw new InferenceError(
        'model_error',
        `model run failed: ${(error as Error).message}`,
      );
    }
    const present = Array.from({ length: this.kvLayout.layers }, (_, i) => ({
      key: results[`present.${i}.key`] as DeviceTensor,
      value: results[`present.${i}.value`] as DeviceTensor,
    }));
    const seq = lastPositionOnly ? 1 : (input.inputIds[0]?.length ?? 0);
    const logits = results['logits'] as Float32Array | Uint16Array;
    return {
      ...logitsOf(
        logits,
        [batch, seq, logits.length / Math.max(1, batch * seq)],
        false,
      ),
      present: KvCache.fromLayers<NativeKvTensor>(
        this.kvLayout,
        present,
        this.storage,
      ),
    };
  }

  /** Frees the session (device tensors still held keep its memory until they are released). */
  async release(): Promise<void> {
    this.session.release();
  }
}

/** KV tensors in `session`'s device memory, composed into batches there. */
function deviceKvStorage(session: NativeSession): KvStorage<NativeKvTensor> {
  return {
    empty: (layout, batch) => ({
      type: layout.dtype,
      dims: [batch, layout.heads, 0, layout.headDim],
      data:
        layout.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0),
    }),
    gather: (layout, sources, length) =>
      session.gather(
        layout.dtype,
        [sources.length, layout.heads, length, layout.headDim],
        sources.map(({ tensor, keep }) =>
          keep > 0 ? (tensor as DeviceTensor) : null,
        ),
        sources.map((s) => s.row),
        sources.map((s) => s.keep),
      ),
    release: (tensor) => {
      if ('release' in tensor) tensor.release();
    },
  };
}

/**
 * Loads a causal LM on the runtime `options.runtime` asks for: the addon when it is asked for
 * and built (and runs this graph), onnxruntime-node otherwise; `onRuntimeFallback` is told why
 * when the addon was asked for but not used. Both give the same tokens.
 */
export async function loadCausalLm(
  modelDir: string,
  options: TextGeneratorOptions = {},
): Promise<CausalLmSession | NativeCausalLm> {
  if (options.runtime !== 'addon')
    return CausalLmSession.load(modelDir, options);
  try {
    return await NativeCausalLm.load(modelDir, options);
  } catch (error) {
    options.onRuntimeFallback?.(
      `${(error as Error).message}; running on onnxruntime-node instead`,
    );
    return CausalLmSession.load(modelDir, options);
  }
}
