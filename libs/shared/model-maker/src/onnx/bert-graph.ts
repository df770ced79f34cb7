import { onnx } from 'onnx-proto';
import type { TransformerShape } from '../model-shape';
import type { ExternalDataWriter } from './graph-builder';
import { GraphBuilder } from './graph-builder';
import { TransformerOps } from './transformer-ops';

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
  const { layers, hidden: E, vocab: V, context: C } = shape;
  const g = new GraphBuilder(external);
  const ops = new TransformerOps(g, shape, seed, BERT_LAYER_NORM_EPSILON);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', DataType.INT64, dims);
  const attentionMask = g.input('attention_mask', DataType.INT64, dims);
  const tokenTypeIds = g.input('token_type_ids', DataType.INT64, dims);
  g.output('last_hidden_state', ops.T, [...dims, E]);

  const zero = ops.i64('zero', [0], []);
  const one = ops.i64('one', [1], []);
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one]);
  const positions = g.op('Unsqueeze', [
    g.op('Range', [zero, seqLen, one]),
    ops.i64('axes_0', [0]),
  ]);
  let h = g.op('Add', [
    g.op('Add', [
      g.op('Gather', [
        ops.weight('embeddings.word_embeddings.weight', [V, E], 0.02),
        inputIds,
      ]),
      g.op('Gather', [
        ops.weight('embeddings.position_embeddings.weight', [C, E], 0.02),
        positions,
      ]),
    ]),
    g.op('Gather', [
      ops.weight(
        'embeddings.token_type_embeddings.weight',
        [BERT_TYPE_VOCAB, E],
        0.02,
      ),
      tokenTypeIds,
    ]),
  ]);
  h = ops.layerNorm(h, 'embeddings.LayerNorm');
  // keys[b, 0, 0, j]: attention_mask[b, j] = 1. Every query (padding too) sees only real keys.
  const keys = g.op('Unsqueeze', [
    g.op('Cast', [attentionMask], { to: DataType.BOOL }),
    ops.i64('axes_1_2', [1, 2]),
  ]);

  for (let i = 0; i < layers; i++) {
    const p = `encoder.layer.${i}`;
    const q = ops.toHeads(ops.linear(h, `${p}.attention.self.query`, E, E));
    const k = ops.toHeads(ops.linear(h, `${p}.attention.self.key`, E, E));
    const v = ops.toHeads(ops.linear(h, `${p}.attention.self.value`, E, E));
    const context = ops.attend(q, k, v, keys);
    h = ops.layerNorm(
      g.op('Add', [
        h,
        ops.linear(context, `${p}.attention.output.dense`, E, E),
      ]),
      `${p}.attention.output.LayerNorm`,
    );
    const fc = ops.linear(h, `${p}.intermediate.dense`, E, 4 * E);
    h = ops.layerNorm(
      g.op('Add', [
        h,
        ops.linear(ops.geluNew(fc), `${p}.output.dense`, 4 * E, E),
      ]),
      `${p}.output.LayerNorm`,
    );
  }
  g.op('Identity', [h], {}, 'last_hidden_state');
  return g;
}
