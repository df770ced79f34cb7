import { DEFAULT_CHAT_TEMPLATE } from '@marquee/shared/tokenization';
import { trainByteLevelBpe } from './bpe-trainer';
import { FILM_CORPUS } from './corpus';

/** Special tokens, which take the last three ids: `<|im_start|>`, `<|im_end|>`, then `<|endoftext|>` last. */
export const SPECIAL_TOKENS = {
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  endOfText: '<|endoftext|>',
} as const;

/** ChatML with Qwen2.5's tool turns (see `DEFAULT_CHAT_TEMPLATE`). */
export const CHAT_TEMPLATE = DEFAULT_CHAT_TEMPLATE;

/** Smallest vocab: the 256 byte tokens plus the three special tokens. */
export const MIN_VOCAB = 256 + 3;

export interface TokenizerFiles {
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  ids: { imStart: number; imEnd: number; endOfText: number };
}

/**
 * A GPT-2-style byte-level BPE tokenizer with exactly `vocabSize` contiguous ids: 256 bytes,
 * merges learned from a built-in corpus, `<|unused_N|>` fillers when the corpus runs out of
 * merges, and the special tokens last.
 */
export function buildTokenizerFiles(
  vocabSize: number,
  modelMaxLength: number,
): TokenizerFiles {
  if (vocabSize < MIN_VOCAB)
    throw new RangeError(
      `vocab must be at least ${MIN_VOCAB}, got ${vocabSize}`,
    );
  const { vocab, merges } = trainByteLevelBpe(FILM_CORPUS, vocabSize - 3);
  for (let n = 0; vocab.size < vocabSize - 3; n++)
    vocab.set(`<|unused_${n}|>`, vocab.size);
  const ids = {
    imStart: vocabSize - 3,
    imEnd: vocabSize - 2,
    endOfText: vocabSize - 1,
  };
  const specials: Array<[string, number]> = [
    [SPECIAL_TOKENS.imStart, ids.imStart],
    [SPECIAL_TOKENS.imEnd, ids.imEnd],
    [SPECIAL_TOKENS.endOfText, ids.endOfText],
  ];
  for (const [content, id] of specials) vocab.set(content, id);

  const tokenFlags = (content: string) => ({
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const byteLevel = {
    type: 'ByteLevel',
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({
      id,
      ...tokenFlags(content),
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      specials.map(([content, id]) => [String(id), tokenFlags(content)]),
    ),
    bos_token: SPECIAL_TOKENS.endOfText,
    eos_token: SPECIAL_TOKENS.endOfText,
    unk_token: SPECIAL_TOKENS.endOfText,
    pad_token: SPECIAL_TOKENS.endOfText,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'GPT2Tokenizer',
  };
  return { tokenizer, tokenizerConfig, ids };
}
