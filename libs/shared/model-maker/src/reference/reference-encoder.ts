import { BERT_LAYER_NORM_EPSILON } from '../onnx/bert-graph';
import { geluNew, layerNorm, linear, softmax } from './reference-math';
import { readOnnxInitializers } from './read-weights';

/** A BERT encoder's weights as float64, read back out of `model.onnx`, with its shape. */
export interface EncoderWeights {
  layers: number;
  heads: number;
  hidden: number;
  dtype: 'fp32' | 'fp16';
  tensors: Map<string, Float64Array>;
}

/** Reads an encoder written by `makeEncoder` (heads from its `config.json` are passed in). */
export function readEncoderWeights(
  modelDirOrFile: string,
  heads: number,
): EncoderWeights {
  const { tensors, dtype } = readOnnxInitializers(modelDirOrFile);
  const word = tensors.get('embeddings.word_embeddings.weight');
  const ln = tensors.get('embeddings.LayerNorm.weight');
  if (!word || !ln)
    throw new Error(`${modelDirOrFile} is not an encoder from the model maker`);
  let layers = 0;
  while (tensors.has(`encoder.layer.${layers}.attention.self.query.weight`))
    layers++;
  return { layers, heads, hidden: ln.length, dtype, tensors };
}

/**
 * An independent, plain float64 forward pass of the encoder `makeEncoder` writes, then what the
 * embeddings endpoint returns: mean pooling over the tokens, L2 normalisation. One input, no
 * padding, token types 0. No ONNX Runtime.
 */
export function referenceEmbedding(
  w: EncoderWeights,
  ids: readonly number[],
): Float64Array {
  const { hidden: E, heads: H } = w;
  const D = E / H;
  const S = ids.length;
  const get = (name: string): Float64Array => {
    const t = w.tensors.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    return t;
  };
  const row = (table: Float64Array, index: number) =>
    table.subarray(index * E, (index + 1) * E);
  const word = get('embeddings.word_embeddings.weight');
  const pos = get('embeddings.position_embeddings.weight');
  const type = get('embeddings.token_type_embeddings.weight');
  let x = ids.map((id, s) => {
    const v = new Float64Array(E);
    const a = row(word, id);
    const b = row(pos, s);
    const c = row(type, 0);
    for (let e = 0; e < E; e++) v[e] = a[e] + b[e] + c[e];
    return layerNorm(
      v,
      get('embeddings.LayerNorm.weight'),
      get('embeddings.LayerNorm.bias'),
      BERT_LAYER_NORM_EPSILON,
    );
  });
  const scale = 1 / Math.sqrt(D);
  for (let l = 0; l < w.layers; l++) {
    const p = `encoder.layer.${l}`;
    const lin = (v: Float64Array, name: string) =>
      linear(v, get(`${p}.${name}.weight`), get(`${p}.${name}.bias`));
    const q = x.map((v) => lin(v, 'attention.self.query'));
    const k = x.map((v) => lin(v, 'attention.self.key'));
    const vv = x.map((v) => lin(v, 'attention.self.value'));
    x = x.map((v, s) => {
      const context = new Float64Array(E);
      for (let h = 0; h < H; h++) {
        const scores = new Float64Array(S);
        for (let t = 0; t < S; t++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[s][h * D + d] * k[t][h * D + d];
          scores[t] = dot * scale;
        }
        const probs = softmax(scores);
        for (let t = 0; t < S; t++)
          for (let d = 0; d < D; d++)
            context[h * D + d] += probs[t] * vv[t][h * D + d];
      }
      const attn = lin(context, 'attention.output.dense');
      for (let e = 0; e < E; e++) attn[e] += v[e];
      const y = layerNorm(
        attn,
        get(`${p}.attention.output.LayerNorm.weight`),
        get(`${p}.attention.output.LayerNorm.bias`),
        BERT_LAYER_NORM_EPSILON,
      );
      const fc = lin(y, 'intermediate.dense').map(geluNew);
      const out = lin(fc, 'output.dense');
      for (let e = 0; e < E; e++) out[e] += y[e];
      return layerNorm(
        out,
        get(`${p}.output.LayerNorm.weight`),
        get(`${p}.output.LayerNorm.bias`),
        BERT_LAYER_NORM_EPSILON,
      );
    });
  }
  const mean = new Float64Array(E);
  for (const v of x) for (let e = 0; e < E; e++) mean[e] += v[e] / S;
  const norm = Math.sqrt(mean.reduce((sum, m) => sum + m * m, 0));
  return mean.map((m) => m / norm);
}
