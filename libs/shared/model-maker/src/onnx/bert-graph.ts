import { onnx } from 'onnx-proto';
import { float32ToFloat16, float32ToFloat16Bits } from '../fp16';
import type { TransformerShape } from '../model-shape';
import { fillNormal, mulberry32 } from '../prng';
import type { ExternalDataWriter } from './graph-builder';
import { GraphBuilder } from './graph-builder';
import { maskValue } from './gpt2-graph';

const DataType = onnx.TensorProto.DataType;

/**
 * BERT hyperparameters: `layers` is `num_hidden_layers`, `hidden` `hidden_size`, `heads`
 * `num_attention_heads`, `vocab` `vocab_size`, `context` `max_position_embeddings`.
 */
export interface BertShape extends TransformerShape {
  dtype: 'fp32' | 'fp16';
}

/** BERT's `layer_norm_eps`. */
export const BERT_LAYER_NORM_EPSILON = 1e-12;
/** Rows of `token_type_embeddings` (`type_vocab_size`). */
export const BERT_TYPE_VOCAB = 2;

/** Number of weights in a BERT encoder of this shape (no pooler). */
export function bertParameterCount({
  layers,
  hidden: e,
  vocab,
  context,
}: BertShape): number {
  const perLayer =
    4 * (e * e + e) + 2 * e + (e * 4 * e + 4 * e) + (4 * e * e + e) + 2 * e;
  return (vocab + context + BERT_TYPE_VOCAB) * e + 2 * e + layers * perLayer;
}

/**
 * A post-LayerNorm BERT encoder in Hugging Face Optimum's feature-extraction layout
 * (`input_ids`, `attention_mask`, `token_type_ids` -> `last_hidden_state`), with `gelu_new`
 * activations and seeded random weights drawn in a fixed order. Linear weights are stored
 * `[in, out]` under Hugging Face's parameter names.
 */
export function buildBertGraph(
  shape: BertShape,
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
  const weight = (name: string, dims: number[], std: number, mean = 0) =>
    g.initializer({
      name,
      dataType: T,
      dims,
      bytes: toBytes(
        fillNormal(
          new Float32Array(dims.reduce((a, b) => a * b, 1)),
          rand,
          std,
          mean,
        ),
      ),
    });
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
      { axis: -1, epsilon: BERT_LAYER_NORM_EPSILON },
    );
  const linear = (x: string, prefix: string, inDim: number, outDim: number) =>
    g.op('Add', [
      g.op('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim], 0.02)]),
      weight(`${prefix}.bias`, [outDim], 0.02),
    ]);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', DataType.INT64, dims);
  const attentionMask = g.input('attention_mask', DataType.INT64, dims);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, dims);
  g.output('last_hidden_state', T, [...dims, E]);

  const i64 = (name: string, values: number[], d?: number[]) =>
    g.constInt64(`/const/${name}`, values, d);
  const zero = i64('zero', [0], []);
  const one = i64('one', [1], []);
  const axis0 = i64('axes_0', [0]);
  const axes12 = i64('axes_1_2', [1, 2]);
  const headShape = i64('head_shape', [0, 0, H, D]);
  const mergedShape = i64('merged_shape', [0, 0, E]);
  const scale = scalar('/const/attn_scale', 1 / Math.sqrt(D));
  const masked = scalar('/const/mask_value', maskValue(dtype));
  const half = scalar('/const/half', 0.5);
  const oneT = scalar('/const/one_f', 1);
  const geluCubic = scalar('/const/gelu_cubic', 0.044715);
  const geluScale = scalar('/const/gelu_scale', Math.sqrt(2 / Math.PI));

  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one]);
  const positions = g.op('Unsqueeze', [
    g.op('Range', [zero, seqLen, one]),
    axis0,
  ]);
  let h = g.op('Add', [
    g.op('Add', [
      g.op('Gather', [
        weight('embeddings.word_embeddings.weight', [V, E], 0.02),
        inputIds,
      ]),
      g.op('Gather', [
        weight('embeddings.position_embeddings.weight', [C, E], 0.02),
        positions,
      ]),
    ]),
    g.op('Gather', [
      weight(
        'embeddings.token_type_embeddings.weight',
        [BERT_TYPE_VOCAB, E],
        0.02,
      ),
      tokenTypeIds,
    ]),
  ]);
  h = layerNorm(h, 'embeddings.LayerNorm');
  // keys[b, 0, 0, j]: attention_mask[b, j] = 1. Every query (padding too) sees only real keys.
  const keys = g.op('Unsqueeze', [
    g.op('Cast', [attentionMask], { to: DataType.BOOL }),
    axes12,
  ]);

  for (let i = 0; i < layers; i++) {
    const p = `encoder.layer.${i}`;
    const toHeads = (t: string): string =>
      g.op('Transpose', [g.op('Reshape', [t, headShape])], {
        perm: [0, 2, 1, 3],
      });
    const q = toHeads(linear(h, `${p}.attention.self.query`, E, E));
    const k = toHeads(linear(h, `${p}.attention.self.key`, E, E));
    const v = toHeads(linear(h, `${p}.attention.self.value`, E, E));
    const scores = g.op('Mul', [
      g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]),
      scale,
    ]);
    const probs = g.op('Softmax', [g.op('Where', [keys, scores, masked])], {
      axis: -1,
    });
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, v])], {
        perm: [0, 2, 1, 3],
      }),
      mergedShape,
    ]);
    h = layerNorm(
      g.op('Add', [h, linear(context, `${p}.attention.output.dense`, E, E)]),
      `${p}.attention.output.LayerNorm`,
    );
    const fc = linear(h, `${p}.intermediate.dense`, E, 4 * E);
    const cube = g.op('Mul', [g.op('Mul', [fc, fc]), fc]);
    const inner = g.op('Mul', [
      g.op('Add', [fc, g.op('Mul', [cube, geluCubic])]),
      geluScale,
    ]);
    const gelu = g.op('Mul', [
      g.op('Mul', [fc, half]),
      g.op('Add', [g.op('Tanh', [inner]), oneT]),
    ]);
    h = layerNorm(
      g.op('Add', [h, linear(gelu, `${p}.output.dense`, 4 * E, E)]),
      `${p}.output.LayerNorm`,
    );
  }
  g.op('Identity', [h], {}, 'last_hidden_state');
  return g;
}
