import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { BYTE_OF } from '@marquee/shared/tokenization';

/** What XGrammar needs from a Hugging Face `tokenizer.json`. */
export interface TokenizerVocab {
  /** Token strings by id, as the tokenizer stores them (`''` for unused ids). */
  encoded: string[];
  /** XGrammar's vocab type: how `encoded` maps to bytes. */
  vocabType: 'byte_level' | 'byte_fallback';
  /** Whether the tokenizer prepends a space (SentencePiece `▁`) to the text. */
  prependSpace: boolean;
  /** Ids of added tokens marked `special` (`<|im_start|>`, `<|endoftext|>`, ...). */
  specialIds: number[];
  /** The bytes each token stands for. */
  bytes: Uint8Array[];
}

interface TokenizerJson {
  decoder?: DecoderJson | null;
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}
interface DecoderJson {
  type?: string;
  decoders?: DecoderJson[];
  start?: number;
}

/** Reads the vocabulary of a model folder's `tokenizer.json`. */
export async function readTokenizerVocab(dir: string): Promise<TokenizerVocab> {
  const file = join(dir, MODEL_FILES.tokenizer);
  const json = JSON.parse(await readFile(file, 'utf8')) as TokenizerJson;
  const encoded: string[] = [];
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab))
    vocab.forEach(([token], id) => (encoded[id] = token));
  else if (vocab)
    for (const [token, id] of Object.entries(vocab)) encoded[id] = token;
  const specialIds: number[] = [];
  const added = new Set<number>();
  for (const token of json.added_tokens ?? []) {
    encoded[token.id] = token.content;
    added.add(token.id);
    if (token.special) specialIds.push(token.id);
  }
  // Holes (ids no token uses) decode to nothing, which XGrammar never allows.
  for (let id = 0; id < encoded.length; id++) encoded[id] ??= '';

  const decoders =
    json.decoder?.type === 'Sequence'
      ? (json.decoder.decoders ?? [])
      : json.decoder
        ? [json.decoder]
        : [];
  const has = (type: string) => decoders.some((d) => d.type === type);
  const utf8 = new TextEncoder();
  const bytesOf = (decode: (token: string) => Uint8Array) =>
    encoded.map((token, id) =>
      added.has(id) ? utf8.encode(token) : decode(token),
    );
  if (has('ByteLevel'))
    return {
      encoded,
      vocabType: 'byte_level',
      prependSpace: false,
      specialIds,
      bytes: bytesOf((token) =>
        [...token].every((c) => BYTE_OF.has(c))
          ? Uint8Array.from([...token], (c) => BYTE_OF.get(c) ?? 0)
          : utf8.encode(token),
      ),
    };
  if (has('ByteFallback'))
    return {
      encoded,
      vocabType: 'byte_fallback',
      // Llama-style decoders strip the space the normaliser prepended.
      prependSpace: decoders.some(
        (d) => d.type === 'Strip' && (d.start ?? 0) > 0,
      ),
      specialIds,
      bytes: bytesOf((token) =>
        /^<0x[0-9A-Fa-f]{2}>$/.test(token)
          ? Uint8Array.of(parseInt(token.slice(3, 5), 16))
          : utf8.encode(token.replace(/\u2581/g, ' ')),
      ),
    };
  throw new Error(
    `${file}: constrained decoding needs a ByteLevel or ByteFallback decoder, found ${JSON.stringify(json.decoder?.type ?? null)}`,
  );
}
