import { LAYER_NORM_EPSILON, maskValue } from '../onnx/gpt2-graph';
import { geluNew, layerNorm, linear, softmax } from './reference-math';
import type { Gpt2Weights } from './read-weights';
import { readGpt2Weights } from './read-weights';

export { readGpt2Weights };
export type { Gpt2Weights };

/** Per-layer key/value cache, each flattened row-major as [batch, heads, length, headDim]. */
export type ReferencePast = Array<{ key: Float64Array; value: Float64Array }>;

/** Output of {@link referenceForward}. */
export interface ReferenceResult {
  /** Flattened [batch, seq, vocab], like the ONNX `logits` output. */
  logits: Float64Array;
  logitsDims: [number, number, number];
  /** Like ONNX `present.{i}.key/value`: [batch, heads, past + seq, headDim] each. */
  present: ReferencePast;
  presentDims: [number, number, number, number];
}

/**
 * An independent, deliberately plain float64 forward pass of the GPT-2 model that
 * `makeCausalLm` writes; tests compare the inference engine against it. No ONNX Runtime.
 *
 * Same semantics as the ONNX graph: query `i` sits at absolute position `past + i` and sees
 * keys `j <= past + i` whose `attentionMask` is 1; masked scores become the dtype's most
 * negative value (so a fully masked row is uniform, never NaN). `positionIds` are used as given.
 *
 * @param model a model folder, or weights from {@link readGpt2Weights} (faster when reused)
 * @param inputIds [batch][seq]
 * @param attentionMask [batch][past + seq]
 * @param positionIds [batch][seq]
 * @param past per-layer cache from an earlier call's `present`; omit for none
 */
export function referenceForward(
  model: string | Gpt2Weights,
  inputIds: readonly (readonly number[])[],
  attentionMask: readonly (readonly number[])[],
  positionIds: readonly (readonly number[])[],
  past?: ReferencePast,
): ReferenceResult {
  const w = typeof model === 'string' ? readGpt2Weights(model) : model;
  const { layers, heads: H, hidden: E, vocab: V } = w;
  const D = E / H;
  const B = inputIds.length;
  const S = inputIds[0].length;
  const L = attentionMask[0].length;
  const P = L - S;
  if (P < 0) throw new RangeError('attentionMask must cover past + seq tokens');
  const get = (name: string): Float64Array => {
    const t = w.tensors.get(name);
    if (!t) throw new Error(`missing weight ${name}`);
    return t;
  };
  const neg = maskValue(w.dtype);
  const scale = 1 / Math.sqrt(D);

  const logits = new Float64Array(B * S * V);
  const present: ReferencePast = Array.from({ length: layers }, () => ({
    key: new Float64Array(B * H * L * D),
    value: new Float64Array(B * H * L * D),
  }));
  const at = (b: number, h: number, t: number): number =>
    ((b * H + h) * L + t) * D;
  const pastAt = (b: number, h: number, t: number): number =>
    ((b * H + h) * P + t) * D;

  for (let b = 0; b < B; b++) {
    const wte = get('transformer.wte.weight');
    const wpe = get('transformer.wpe.weight');
    // x[s]: the residual stream of token s.
    const x = inputIds[b].map((id, s) => {
      const row = new Float64Array(E);
      for (let e = 0; e < E; e++)
        row[e] = wte[id * E + e] + wpe[positionIds[b][s] * E + e];
      return row;
    });

    for (let l = 0; l < layers; l++) {
      const p = `transformer.h.${l}`;
      const { key: K, value: Vc } = present[l];
      if (past) {
        for (let h = 0; h < H; h++)
          for (let t = 0; t < P; t++)
            for (let d = 0; d < D; d++) {
              K[at(b, h, t) + d] = past[l].key[pastAt(b, h, t) + d];
              Vc[at(b, h, t) + d] = past[l].value[pastAt(b, h, t) + d];
            }
      }
      const qkv = x.map((row) =>
        linear(
          layerNorm(
            row,
            get(`${p}.ln_1.weight`),
            get(`${p}.ln_1.bias`),
            LAYER_NORM_EPSILON,
          ),
          get(`${p}.attn.c_attn.weight`),
          get(`${p}.attn.c_attn.bias`),
        ),
      );
      for (let s = 0; s < S; s++)
        for (let h = 0; h < H; h++)
          for (let d = 0; d < D; d++) {
            K[at(b, h, P + s) + d] = qkv[s][E + h * D + d];
            Vc[at(b, h, P + s) + d] = qkv[s][2 * E + h * D + d];
          }
      for (let s = 0; s < S; s++) {
        const context = new Float64Array(E);
        for (let h = 0; h < H; h++) {
          const scores = new Float64Array(L);
          for (let t = 0; t < L; t++) {
            let dot = 0;
            for (let d = 0; d < D; d++)
              dot += qkv[s][h * D + d] * K[at(b, h, t) + d];
            const allowed = t <= P + s && attentionMask[b][t] !== 0;
            scores[t] = allowed ? dot * scale : neg;
          }
          const probs = softmax(scores);
          for (let t = 0; t < L; t++)
            for (let d = 0; d < D; d++)
              context[h * D + d] += probs[t] * Vc[at(b, h, t) + d];
        }
        const attn = linear(
          context,
          get(`${p}.attn.c_proj.weight`),
          get(`${p}.attn.c_proj.bias`),
        );
        for (let e = 0; e < E; e++) x[s][e] += attn[e];
      }
      for (let s = 0; s < S; s++) {
        const y = layerNorm(
          x[s],
          get(`${p}.ln_2.weight`),
          get(`${p}.ln_2.bias`),
          LAYER_NORM_EPSILON,
        );
        const fc = linear(
          y,
          get(`${p}.mlp.c_fc.weight`),
          get(`${p}.mlp.c_fc.bias`),
        ).map(geluNew);
        const mlp = linear(
          fc,
          get(`${p}.mlp.c_proj.weight`),
          get(`${p}.mlp.c_proj.bias`),
        );
        for (let e = 0; e < E; e++) x[s][e] += mlp[e];
      }
    }

    for (let s = 0; s < S; s++) {
      const f = layerNorm(
        x[s],
        get('transformer.ln_f.weight'),
        get('transformer.ln_f.bias'),
        LAYER_NORM_EPSILON,
      );
      for (let v = 0; v < V; v++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += f[e] * wte[v * E + e];
        logits[(b * S + s) * V + v] = dot;
      }
    }
  }
  return { logits, logitsDims: [B, S, V], present, presentDims: [B, H, L, D] };
}
