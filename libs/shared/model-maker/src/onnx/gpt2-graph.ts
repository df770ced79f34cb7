import { onnx } from 'onnx-proto';
import type { TransformerShape } from '../model-shape';
import type { ExternalDataWriter } from './graph-builder';
import { GraphBuilder } from './graph-builder';
import { TransformerOps } from './transformer-ops';

export { maskValue } from './transformer-ops';

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

/**
 * Builds the GPT-2 graph in Optimum's `text-generation-with-past` layout, drawing seeded
 * random weights in a fixed order (so the same seed gives the same bytes).
 */
export function buildGpt2Graph(
  shape: Gpt2Shape,
  seed: number,
  external?: ExternalDataWriter,
): GraphBuilder {
  const { layers, hidden: E, heads: H, vocab: V, context: C } = shape;
  const D = E / H;
  const g = new GraphBuilder(external);
  const ops = new TransformerOps(g, shape, seed, LAYER_NORM_EPSILON);
  const T = ops.T;

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
  const pastDims = ['batch_size', H, 'past_sequence_length', D];
  const past = Array.from({ length: layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, T, pastDims),
    value: g.input(`past_key_values.${i}.value`, T, pastDims),
  }));
  g.output('logits', T, ['batch_size', 'sequence_length', V]);
  for (let i = 0; i < layers; i++) {
    g.output(`present.${i}.key`, T, ['batch_size', H, total, D]);
    g.output(`present.${i}.value`, T, ['batch_size', H, total, D]);
  }

  // Embeddings.
  const wte = ops.weight('transformer.wte.weight', [V, E], 0.02);
  const wpe = ops.weight('transformer.wpe.weight', [C, E], 0.01);
  let h = g.op('Add', [
    g.op('Gather', [wte, inputIds]),
    g.op('Gather', [wpe, positionIds]),
  ]);

  // allowed[b, 0, i, j] = key j is at or before query i's absolute position (past + i) and attention_mask[b, j] = 1.
  const zero = ops.i64('zero', [0], []);
  const one = ops.i64('one', [1], []);
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one]);
  const totalLen = g.op('Gather', [g.op('Shape', [attentionMask]), one]);
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const queryPos = g.op('Unsqueeze', [
    g.op('Range', [pastLen, totalLen, one]),
    ops.i64('axes_1', [1]),
  ]);
  const keyPos = g.op('Range', [zero, totalLen, one]);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]);
  const padding = g.op('Unsqueeze', [
    g.op('Cast', [attentionMask], { to: DataType.BOOL }),
    ops.i64('axes_1_2', [1, 2]),
  ]);
  const allowed = g.op('And', [causal, padding], {}, '/attention_allowed');
  const qkvSplit = ops.i64('qkv_split', [E, E, E]);

  for (let i = 0; i < layers; i++) {
    const p = `transformer.h.${i}`;
    const x = ops.layerNorm(h, `${p}.ln_1`);
    const qkv = ops.linear(x, `${p}.attn.c_attn`, E, 3 * E);
    const [q, k, v] = g.node('Split', [qkv, qkvSplit], { axis: 2 }, 3);
    const presentKey = g.op(
      'Concat',
      [past[i].key, ops.toHeads(k)],
      { axis: 2 },
      `present.${i}.key`,
    );
    const presentValue = g.op(
      'Concat',
      [past[i].value, ops.toHeads(v)],
      { axis: 2 },
      `present.${i}.value`,
    );
    const context = ops.attend(
      ops.toHeads(q),
      presentKey,
      presentValue,
      allowed,
    );
    h = g.op('Add', [h, ops.linear(context, `${p}.attn.c_proj`, E, E)]);

    const y = ops.layerNorm(h, `${p}.ln_2`);
    const fc = ops.linear(y, `${p}.mlp.c_fc`, E, 4 * E);
    h = g.op('Add', [
      h,
      ops.linear(ops.geluNew(fc), `${p}.mlp.c_proj`, 4 * E, E),
    ]);
  }

  const final = ops.layerNorm(h, 'transformer.ln_f');
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
