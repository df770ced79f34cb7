import { assertTransformerShape } from './model-shape';
import {
  closeSync,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest } from '@marquee/shared/model-format';
import { MODEL_FILES } from '@marquee/shared/model-format';
import type { ExternalDataWriter } from './onnx/graph-builder';
import {
  buildGpt2Graph,
  encodeModel,
  gpt2ParameterCount,
  LAYER_NORM_EPSILON,
} from './onnx/gpt2-graph';
import { writeJsonFiles } from './model-files';
import { buildTokenizerFiles } from './tokenizer/tokenizer-files';

/** Options for {@link makeCausalLm}. */
export interface MakeCausalLmOptions {
  /** Folder to write; created if missing. Existing model files in it are overwritten. */
  out: string;
  /** Model name for `marquee.json`. Default: `gpt2-<layers>l-<hidden>h-<dtype>`. */
  name?: string;
  /** Transformer blocks (`n_layer`). */
  layers: number;
  /** Hidden size (`n_embd`); must be divisible by `heads`. */
  hidden: number;
  /** Attention heads (`n_head`). */
  heads: number;
  /** Vocabulary size, special tokens included; at least 259. */
  vocab: number;
  /** Maximum positions (`n_positions`), in tokens. Default 256. */
  context?: number;
  /** Weight and compute dtype. Default `fp32`. */
  dtype?: 'fp32' | 'fp16';
  /** PRNG seed; the same seed gives byte-identical files. Default 42. */
  seed?: number;
  /**
   * Put weights in `model.onnx_data` beside `model.onnx` (ONNX external data). Default `auto`:
   * only when they exceed 1.5 GB, to stay under protobuf's 2 GB limit.
   */
  externalData?: boolean | 'auto';
}

/** What {@link makeCausalLm} wrote. */
export interface MadeModel {
  dir: string;
  manifest: ModelManifest;
  parameters: number;
  /** Files written, relative to `dir`. */
  files: string[];
  externalData: boolean;
  /** Special token ids. `<|endoftext|>` is eos and bos, the last id. */
  tokenIds: { imStart: number; imEnd: number; endOfText: number };
}

/** Weights above this many bytes go to external data. */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1.5e9;

/**
 * Writes a GPT-2-architecture causal LM with seeded random weights in Hugging Face Optimum's
 * `text-generation-with-past` layout: `model.onnx` (+ `model.onnx_data`), tokenizer files,
 * `config.json`, `generation_config.json` and `marquee.json`.
 */
export function makeCausalLm(options: MakeCausalLmOptions): MadeModel {
  const { out, layers, hidden, heads, vocab } = options;
  const context = options.context ?? 256;
  const dtype = options.dtype ?? 'fp32';
  const seed = options.seed ?? 42;
  assertTransformerShape({ layers, hidden, heads, vocab, context });
  if (!Number.isInteger(seed))
    throw new RangeError(`seed must be an integer, got ${seed}`);
  const name = options.name ?? `gpt2-${layers}l-${hidden}h-${dtype}`;
  const shape = { layers, hidden, heads, vocab, context, dtype };
  const parameters = gpt2ParameterCount(shape);
  const weightBytes = parameters * (dtype === 'fp16' ? 2 : 4);
  const external =
    options.externalData === undefined || options.externalData === 'auto'
      ? weightBytes > EXTERNAL_DATA_THRESHOLD_BYTES
      : options.externalData;

  // Tokenizer first: it fails fast on a too-small vocab before the slow part.
  const tok = buildTokenizerFiles(vocab, context);

  mkdirSync(out, { recursive: true });
  const files: string[] = [MODEL_FILES.onnx];
  const dataPath = join(out, MODEL_FILES.onnxData);
  rmSync(dataPath, { force: true });
  let fd: number | undefined;
  try {
    let writer: ExternalDataWriter | undefined;
    if (external) {
      fd = openSync(dataPath, 'w');
      files.push(MODEL_FILES.onnxData);
      let offset = 0;
      const dataFd = fd;
      writer = {
        write(bytes) {
          // 64-byte alignment keeps every tensor aligned for any element type.
          const pad = (64 - (offset % 64)) % 64;
          if (pad) writeAll(dataFd, new Uint8Array(pad));
          const start = offset + pad;
          writeAll(dataFd, bytes);
          offset = start + bytes.byteLength;
          return {
            location: MODEL_FILES.onnxData,
            offset: start,
            length: bytes.byteLength,
          };
        },
      };
    }
    const graph = buildGpt2Graph(shape, seed, writer);
    writeFileSync(join(out, MODEL_FILES.onnx), encodeModel(graph, name));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }

  const manifest: ModelManifest = {
    name,
    task: 'text-generation',
    dtype,
    contextLength: context,
    eosTokenId: tok.ids.endOfText,
    bosTokenId: tok.ids.endOfText,
    architecture: 'gpt2',
  };
  const config = {
    _name_or_path: name,
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    n_layer: layers,
    n_head: heads,
    n_embd: hidden,
    n_inner: null,
    n_positions: context,
    n_ctx: context,
    vocab_size: vocab,
    bos_token_id: tok.ids.endOfText,
    eos_token_id: tok.ids.endOfText,
    layer_norm_epsilon: LAYER_NORM_EPSILON,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    scale_attn_weights: true,
    use_cache: true,
    torch_dtype: dtype === 'fp16' ? 'float16' : 'float32',
  };
  const generationConfig = {
    bos_token_id: tok.ids.endOfText,
    // Chat turns end with <|im_end|>; plain completions with <|endoftext|>.
    eos_token_id: [tok.ids.endOfText, tok.ids.imEnd],
    pad_token_id: tok.ids.endOfText,
  };
  files.push(
    ...writeJsonFiles(out, [
      [MODEL_FILES.tokenizer, tok.tokenizer],
      [MODEL_FILES.tokenizerConfig, tok.tokenizerConfig],
      [MODEL_FILES.config, config],
      [MODEL_FILES.generationConfig, generationConfig],
      [MODEL_FILES.manifest, manifest],
    ]),
  );
  return {
    dir: out,
    manifest,
    parameters,
    files,
    externalData: external,
    tokenIds: tok.ids,
  };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; )
    done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
