import { onnx } from 'onnx-proto';
import { float32ToFloat16, float32ToFloat16Bits } from '../fp16';
import type { TransformerShape } from '../model-shape';
import { fillNormal, mulberry32 } from '../prng';
import type { ExternalDataWriter } from './graph-builder';
import { GraphBuilder } from './graph-builder';

const DataType = onnx.TensorProto.DataType;

/** GPT-2 hyperparameters, as in Hugging Face's `GPT2Config` (`context` is `n_positions`). */
export interface Gpt2Shape extends TransformerShape {
  dtype: 'fp32' | 'fp16';
}

export const LAYER_NORM_EPSILON = 1e-5;
/** ONNX opset: 17 is the first with LayerNormalization. */
export const OPSET = 17;

/** Number of weights in a GPT-2 model of this shape (lm_head tied to wte). */
export function gpt2ParameterCount({
  layers,
  hidden: e,
  vocab,
  context,
}: Gpt2Shape): number {
  const perLayer =
    2 * e +
    (e * 3 * e + 3 * e) +
    (e * e + e) +
    2 * e +
    (e * 4 * e + 4 * e) +
    (4 * e * e + e);
  return vocab * e + context * e + layers * perLayer + 2 * e;
}

/** Large negative used for masked attention scores: the dtype's most negative finite value. */
export function maskValue(dtype: Gpt2Shape['dtype']): number {
  return dtype === 'fp16' ? -65504 : -3.4028234663852886e38;
}

/**
 * Builds the GPT-2 graph in Optimum's `text-generation-with-past` layout, drawing seeded
 * random weights in a fixed order (so the same seed gives the same bytes).
 */
export function buildGpt2Graph(
  shape: Gpt2Shape,
  seed: number,
  external?: ExternalDataWriter,
): GraphBuilder {
  const { layers, hidden: E, heads: H, vocab: V, context: C, dtype } = shape;
  const D = E / H;
  const T = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const g = new GraphBuilder(external);
  const rand = mulberry32(seed);

  const toBytes = (values: Float32Array): Uint8Array =>
    dtype === 'fp16'
      ? new Uint8Array(float32ToFloat16(values).buffer)
      : new Uint8Array(values.buffer);
  const weight = (
    name: string,
    dims: number[],
    std: number,
    mean = 0,
  ): string => {
    const values = fillNormal(
      new Float32Array(dims.reduce((a, b) => a * b, 1)),
      rand,
      std,
      mean,
    );
    return g.initializer({ name, dataType: T, dims, bytes: toBytes(values) });
  };
  const scalar = (name: string, value: number): string =>
    g.constScalar(
      name,
      T,
      dtype === 'fp16'
        ? new Uint8Array(Uint16Array.of(float32ToFloat16Bits(value)).buffer)
        : new Uint8Array(Float32Array.of(value).buffer),
    );
  const layerNorm = (x: string, prefix: string): string =>
    g.op(
      'LayerNormalization',
      [
        x,
        weight(`${prefix}.weight`, [E], 0.02, 1),
        weight(`${prefix}.bias`, [E], 0.02),
      ],
      {
        axis: -1,
        epsilon: LAYER_NORM_EPSILON,
      },
    );
  const linear = (
    x: string,
    prefix: string,
    inDim: number,
    outDim: number,
  ): string =>
    g.op('Add', [
      g.op('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim], 0.02)]),
      weight(`${prefix}.bias`, [outDim], 0.02),
    ]);

  // Inputs, with Optimum's symbolic dimension names.
  const total = 'past_sequence_length + sequence_length';
  const inputIds = g.input('input_ids', DataType.INT64, [
    'batch_size',
    'sequence_length',
  ]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [
    'batch_size',
    total,
  ]);
  const positionIds = g.input('position_ids', DataType.INT64, [
    'batch_size',
    'sequence_length',
  ]);
  const past: Array<{ key: string; value: string }> = [];
  for (let i = 0; i < layers; i++) {
    past.push({
      key: g.input(`past_key_values.${i}.key`, T, [
        'batch_size',
        H,
        'past_sequence_length',
        D,
      ]),
      value: g.input(`past_key_values.${i}.value`, T, [
        'batch_size',
        H,
        'past_sequence_length',
        D,
      ]),
    });
  }
  g.output('logits', T, ['batch_size', 'sequence_length', V]);
  for (let i = 0; i < layers; i++) {
    g.output(`present.${i}.key`, T, ['batch_size', H, total, D]);
    g.output(`present.${i}.value`, T, ['batch_size', H, total, D]);
  }

  // Constants.
  const i64 = (name: string, values: number[], dims?: number[]): string =>
    g.constInt64(`/const/${name}`, values, dims);
  const zero = i64('zero', [0], []);
  const one = i64('one', [1], []);
  const axis1 = i64('axes_1', [1]);
  const axes12 = i64('axes_1_2', [1, 2]);
  const headShape = i64('head_shape', [0, 0, H, D]);
  const mergedShape = i64('merged_shape', [0, 0, E]);
  const qkvSplit = i64('qkv_split', [E, E, E]);
  const scale = scalar('/const/attn_scale', 1 / Math.sqrt(D));
  const masked = scalar('/const/mask_value', maskValue(dtype));
  const half = scalar('/const/half', 0.5);
  const oneT = scalar('/const/one_f', 1);
  const geluCubic = scalar('/const/gelu_cubic', 0.044715);
  const geluScale = scalar('/const/gelu_scale', Math.sqrt(2 / Math.PI));

  // Embeddings.
  const wte = weight('transformer.wte.weight', [V, E], 0.02);
  const wpe = weight('transformer.wpe.weight', [C, E], 0.01);
  let h = g.op('Add', [
    g.op('Gather', [wte, inputIds]),
    g.op('Gather', [wpe, positionIds]),
  ]);

  // allowed[b, 0, i, j] = key j is at or before query i's absolute position (past + i) and attention_mask[b, j] = 1.
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one]);
  const totalLen = g.op('Gather', [g.op('Shape', [attentionMask]), one]);
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const queryPos = g.op('Unsqueeze', [
    g.op('Range', [pastLen, totalLen, one]),
    axis1,
  ]);
  const keyPos = g.op('Range', [zero, totalLen, one]);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]);
  const padding = g.op('Unsqueeze', [
    g.op('Cast', [attentionMask], { to: DataType.BOOL }),
    axes12,
  ]);
  const allowed = g.op('And', [causal, padding], {}, '/attention_allowed');

  for (let i = 0; i < layers; i++) {
    const p = `transformer.h.${i}`;
    const x = layerNorm(h, `${p}.ln_1`);
    const qkv = linear(x, `${p}.attn.c_attn`, E, 3 * E);
    const [q, k, v] = g.node('Split', [qkv, qkvSplit], { axis: 2 }, 3);
    const toHeads = (t: string): string =>
      g.op('Transpose', [g.op('Reshape', [t, headShape])], {
        perm: [0, 2, 1, 3],
      });
    const presentKey = g.op(
      'Concat',
      [past[i].key, toHeads(k)],
      { axis: 2 },
      `present.${i}.key`,
    );
    const presentValue = g.op(
      'Concat',
      [past[i].value, toHeads(v)],
      { axis: 2 },
      `present.${i}.value`,
    );
    const scores = g.op('Mul', [
      g.op('MatMul', [
        toHeads(q),
        g.op('Transpose', [presentKey], { perm: [0, 1, 3, 2] }),
      ]),
      scale,
    ]);
    // Where, not an additive bias: adding the dtype's min to a negative score would overflow to -inf.
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, masked])], {
      axis: -1,
    });
    const context = g.op('Transpose', [g.op('MatMul', [probs, presentValue])], {
      perm: [0, 2, 1, 3],
    });
    const attn = linear(
      g.op('Reshape', [context, mergedShape]),
      `${p}.attn.c_proj`,
      E,
      E,
    );
    h = g.op('Add', [h, attn]);

    const y = layerNorm(h, `${p}.ln_2`);
    const fc = linear(y, `${p}.mlp.c_fc`, E, 4 * E);
    // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = g.op('Mul', [g.op('Mul', [fc, fc]), fc]);
    const inner = g.op('Mul', [
      g.op('Add', [fc, g.op('Mul', [cube, geluCubic])]),
      geluScale,
    ]);
    const gelu = g.op('Mul', [
      g.op('Mul', [fc, half]),
      g.op('Add', [g.op('Tanh', [inner]), oneT]),
    ]);
    h = g.op('Add', [h, linear(gelu, `${p}.mlp.c_proj`, 4 * E, E)]);
  }

  const final = layerNorm(h, 'transformer.ln_f');
  // lm_head is tied to wte, as in GPT-2.
  g.op(
    'MatMul',
    [final, g.op('Transpose', [wte], { perm: [1, 0] })],
    {},
    'logits',
  );
  return g;
}

/** Serialises a built graph to ModelProto bytes. */
export function encodeModel(g: GraphBuilder, graphName: string): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'marquee-model-maker',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graphName,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs,
      output: g.outputs,
    },
  }).finish();
}
