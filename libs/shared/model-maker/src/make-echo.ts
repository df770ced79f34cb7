import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest } from '@marquee/shared/model-format';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { writeJsonFiles } from './model-files';
import { buildTokenizerFiles } from './tokenizer/tokenizer-files';

/** Options for {@link makeEcho}. */
export interface MakeEchoOptions {
  /** Folder to write; created if missing. Model files in it are overwritten, `model.onnx*` removed. */
  out: string;
  /** Model name for `marquee.json`. Default `echo`. */
  name?: string;
  /**
   * Vocabulary size, special tokens included; at least 259. Default 512. Every generated token
   * scans a logits row this wide, so a small vocabulary keeps an echo token cheap.
   */
  vocab?: number;
  /** Most tokens per sequence, prompt plus completion. Default 4096 (no weights grow with it). */
  context?: number;
}

/** What {@link makeEcho} wrote. */
export interface MadeEcho {
  dir: string;
  manifest: ModelManifest;
  /** Files written, relative to `dir`. */
  files: string[];
  /** Special token ids. `<|endoftext|>` is eos, the last id. */
  tokenIds: { imStart: number; imEnd: number; endOfText: number };
}

/**
 * Writes an echo model: the tokenizer files of a causal LM (byte-level BPE, ChatML template),
 * `config.json`, `generation_config.json` and a `marquee.json` with `engine: "echo"`, but no
 * `model.onnx`. The worker serves it like any text-generation model, answering each prompt with
 * its own tokens (see the worker's `EchoSession`). Only `<|endoftext|>` ends a completion (not
 * `<|im_end|>`), so a chat prompt is echoed whole, template included.
 */
export function makeEcho(options: MakeEchoOptions): MadeEcho {
  const { out } = options;
  const vocab = options.vocab ?? 512;
  const context = options.context ?? 4096;
  const name = options.name ?? 'echo';
  if (!Number.isInteger(context) || context < 2)
    throw new RangeError(
      `context must be an integer of at least 2, got ${context}`,
    );
  const tok = buildTokenizerFiles(vocab, context);

  mkdirSync(out, { recursive: true });
  // A folder that held an ONNX model must not look like one still.
  rmSync(join(out, MODEL_FILES.onnx), { force: true });
  rmSync(join(out, MODEL_FILES.onnxData), { force: true });
  const manifest: ModelManifest = {
    name,
    task: 'text-generation',
    dtype: 'fp32',
    contextLength: context,
    eosTokenId: tok.ids.endOfText,
    architecture: 'echo',
    engine: 'echo',
  };
  const config = {
    _name_or_path: name,
    model_type: 'echo',
    vocab_size: vocab,
    n_positions: context,
    bos_token_id: tok.ids.endOfText,
    eos_token_id: tok.ids.endOfText,
  };
  const generationConfig = {
    bos_token_id: tok.ids.endOfText,
    eos_token_id: [tok.ids.endOfText],
    pad_token_id: tok.ids.endOfText,
  };
  const files = writeJsonFiles(out, [
    [MODEL_FILES.tokenizer, tok.tokenizer],
    [MODEL_FILES.tokenizerConfig, tok.tokenizerConfig],
    [MODEL_FILES.config, config],
    [MODEL_FILES.generationConfig, generationConfig],
    [MODEL_FILES.manifest, manifest],
  ]);
  return { dir: out, manifest, files, tokenIds: tok.ids };
}
