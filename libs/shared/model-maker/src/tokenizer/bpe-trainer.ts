import {
  bytesToUnicode,
  byteTokensInGpt2Order,
  GPT2_SPLIT,
} from './byte-level';

/** A byte-level BPE vocabulary: token -> id, ids contiguous from 0, and merges in rank order. */
export interface BpeVocab {
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
}

/**
 * Learns byte-level BPE merges over `corpus` until the vocab holds `size` tokens or no pair is
 * left to merge. Deterministic: ties go to the lexicographically smallest pair.
 */
export function trainByteLevelBpe(corpus: string, size: number): BpeVocab {
  const byteChar = bytesToUnicode();
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const piece of corpus.match(GPT2_SPLIT) ?? []) {
    const word = Array.from(encoder.encode(piece), (b) => byteChar[b]).join(
      '\u0000',
    );
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts].map(([w, count]) => ({
    symbols: w.split('\u0000'),
    count,
  }));

  const vocab = new Map<string, number>();
  for (const token of byteTokensInGpt2Order()) vocab.set(token, vocab.size);
  const merges: Array<[string, string]> = [];

  while (vocab.size < size) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      if (
        count > bestCount ||
        (count === bestCount && best !== undefined && key < best)
      ) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [a, b] = best.split('\u0000') as [string, string];
    const merged = a + b;
    merges.push([a, b]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const word of words) {
      const s = word.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(merged);
          i++;
        } else {
          out.push(s[i]);
        }
      }
      word.symbols = out;
    }
  }
  return { vocab, merges };
}
