import { float16ToFloat32 } from './float16';
import { InferenceError } from './inference-error';
import type { KvCache, KvDtype, KvLayout } from './kv-cache';

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

/** An int64 input of one step, [batch, width]. */
export interface Int64Input {
  dims: [number, number];
  data: BigInt64Array;
}

/**
 * The token inputs of one step that the graph takes (`input_ids`, and `attention_mask` and
 * `position_ids` where it has them), with the defaults {@link ForwardInput} documents. Both
 * runtimes feed the same ones.
 */
export function stepInputs(
  input: ForwardInput,
  pastLength: number,
  inputNames: ReadonlySet<string>,
): Record<string, Int64Input> {
  const batch = input.inputIds.length;
  const seq = input.inputIds[0]?.length ?? 0;
  const int64 = (
    rows: readonly (readonly number[])[],
    width: number,
    fill: (row: number, col: number) => number,
  ): Int64Input => {
    const data = new BigInt64Array(batch * width);
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < width; i++)
        data[b * width + i] = BigInt(rows[b]?.[i] ?? fill(b, i));
    return { dims: [batch, width], data };
  };
  const inputs: Record<string, Int64Input> = {
    input_ids: int64(input.inputIds, seq, () => 0),
  };
  if (inputNames.has('attention_mask'))
    inputs['attention_mask'] = int64(
      input.attentionMask ?? [],
      pastLength + seq,
      () => 1,
    );
  if (inputNames.has('position_ids'))
    inputs['position_ids'] = int64(
      input.positionIds ?? [],
      seq,
      (_, i) => pastLength + i,
    );
  return inputs;
}

/** A run's `logits` as fp32, all positions or (with `lastPositionOnly`) each row's last. */
export function logitsOf(
  raw: Float32Array | Uint16Array,
  dims: readonly number[],
  lastPositionOnly: boolean,
): Pick<ForwardOutput, 'logits' | 'logitsDims'> {
  const [batch, seq, vocab] = dims;
  const logits = lastPositionOnly ? lastRows(raw, batch, seq, vocab) : raw;
  return {
    logits: logits instanceof Uint16Array ? float16ToFloat32(logits) : logits,
    logitsDims: [batch, lastPositionOnly ? 1 : seq, vocab],
  };
}

function lastRows<T extends Float32Array | Uint16Array>(
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

/** A graph input as either runtime describes it: its element type and shape (symbolic dims not numbers). */
export interface GraphInput {
  name: string;
  type?: string;
  shape: readonly (number | string)[];
}

/**
 * The model's KV-cache layout, from its `past_key_values.*` inputs and, where the graph leaves
 * dims symbolic, `config.json`.
 */
export function readKvLayout(
  inputs: readonly GraphInput[],
  config: Record<string, unknown>,
): KvLayout {
  const pastKeys = inputs.filter((m) =>
    /^past_key_values\.\d+\.key$/.test(m.name),
  );
  const num = (...keys: string[]) =>
    keys.map((k) => config[k]).find((v): v is number => typeof v === 'number');
  const first = pastKeys[0];
  const shape = first?.shape ?? [];
  const known = (d: number | string | undefined) =>
    typeof d === 'number' && d > 0 ? d : undefined;
  const attentionHeads = num('num_attention_heads', 'n_head');
  const hidden = num('hidden_size', 'n_embd');
  const heads = known(shape[1]) ?? num('num_key_value_heads') ?? attentionHeads;
  const headDim =
    known(shape[3]) ??
    num('head_dim') ??
    (hidden && attentionHeads ? hidden / attentionHeads : undefined);
  const type = first?.type;
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
