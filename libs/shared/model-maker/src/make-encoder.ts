import { assertTransformerShape } from './model-shape';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest } from '@marquee/shared/model-format';
import { MODEL_FILES } from '@marquee/shared/model-format';
import {
  BERT_LAYER_NORM_EPSILON,
  BERT_TYPE_VOCAB,
  bertParameterCount,
  buildBertGraph,
} from './onnx/bert-graph';
import { encodeModel } from './onnx/gpt2-graph';
import { writeJsonFiles } from './model-files';
import { buildTokenizerFiles } from './tokenizer/tokenizer-files';

/** Options for {@link makeEncoder}. */
export interface MakeEncoderOptions {
  /** Folder to write; created if missing. Existing model files in it are overwritten. */
  out: string;
  /** Model name for `marquee.json`. Default: `bert-<layers>l-<hidden>h-<dtype>`. */
  name?: string;
  /** Encoder layers (`num_hidden_layers`). */
  layers: number;
  /** Hidden size, which is also the embedding dimension; divisible by `heads`. */
  hidden: number;
  /** Attention heads. */
  heads: number;
  /** Vocabulary size, special tokens included; at least 259. */
  vocab: number;
  /** Maximum input length in tokens (`max_position_embeddings`). Default 512. */
  context?: number;
  /** Default `fp32`. */
  dtype?: 'fp32' | 'fp16';
  /** PRNG seed; the same seed gives byte-identical files. Default 42. */
  seed?: number;
}

/** What {@link makeEncoder} wrote. */
export interface MadeEncoder {
  dir: string;
  manifest: ModelManifest;
  parameters: number;
  files: string[];
}

/**
 * Writes a BERT-layout encoder for `/v1/embeddings` with seeded random weights: `model.onnx`
 * (`input_ids`, `attention_mask`, `token_type_ids` -> `last_hidden_state`), a byte-level BPE
 * tokenizer (no [CLS]/[SEP]: the embedder mean-pools every real token), `config.json` and
 * `marquee.json` with task `embedding`. Weights stay inline (encoders this generator makes are
 * small); larger ones need the causal LM's external-data path.
 */
export function makeEncoder(options: MakeEncoderOptions): MadeEncoder {
  const { out, layers, hidden, heads, vocab } = options;
  const context = options.context ?? 512;
  const dtype = options.dtype ?? 'fp32';
  const seed = options.seed ?? 42;
  assertTransformerShape({ layers, hidden, heads, vocab, context });
  const name = options.name ?? `bert-${layers}l-${hidden}h-${dtype}`;
  const shape = { layers, hidden, heads, vocab, context, dtype };
  const tok = buildTokenizerFiles(vocab, context);

  mkdirSync(out, { recursive: true });
  rmSync(join(out, MODEL_FILES.onnxData), { force: true });
  writeFileSync(
    join(out, MODEL_FILES.onnx),
    encodeModel(buildBertGraph(shape, seed), name),
  );
  const files: string[] = [MODEL_FILES.onnx];
  const manifest: ModelManifest = {
    name,
    task: 'embedding',
    dtype,
    contextLength: context,
    eosTokenId: tok.ids.endOfText,
    architecture: 'bert',
  };
  const config = {
    _name_or_path: name,
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_act: 'gelu_new',
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: 4 * hidden,
    max_position_embeddings: context,
    type_vocab_size: BERT_TYPE_VOCAB,
    vocab_size: vocab,
    layer_norm_eps: BERT_LAYER_NORM_EPSILON,
    pad_token_id: tok.ids.endOfText,
    position_embedding_type: 'absolute',
    torch_dtype: dtype === 'fp16' ? 'float16' : 'float32',
  };
  files.push(
    ...writeJsonFiles(out, [
      [MODEL_FILES.tokenizer, tok.tokenizer],
      [
        MODEL_FILES.tokenizerConfig,
        {
          ...tok.tokenizerConfig,
          chat_template: undefined,
          model_max_length: context,
        },
      ],
      [MODEL_FILES.config, config],
      [MODEL_FILES.manifest, manifest],
    ]),
  );
  return { dir: out, manifest, parameters: bertParameterCount(shape), files };
}
