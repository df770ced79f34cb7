/** Turns token ids into text; e.g. `(ids) => tokenizer.decode(ids, { skip_special_tokens: true })`. */
export type DecodeTokens = (ids: number[]) => string;

/**
 * Decodes one sequence token by token and returns only text that is final: a UTF-8 character
 * split across byte-level tokens is held back (its halves decode to U+FFFD) until it completes.
 * Decodes a small window that starts a few tokens back, so tokenizers whose decoders depend on
 * context (SentencePiece's leading space) still produce the same text as a full decode.
 */
export class IncrementalDecoder {
  private readonly tokens: number[];
  private prefixOffset = 0;
  private readOffset: number;

  /**
   * @param decode the tokenizer's decode.
   * @param context the last few prompt tokens (up to 5 are used), giving the first tokens their context.
   */
  constructor(
    private readonly decode: DecodeTokens,
    context: readonly number[] = [],
  ) {
    this.tokens = context.slice(-5);
    this.readOffset = this.tokens.length;
  }

  /** Adds one token; returns the text it completed (often '' while a character is incomplete). */
  push(tokenId: number): string {
    this.tokens.push(tokenId);
    const prefix = this.decode(
      this.tokens.slice(this.prefixOffset, this.readOffset),
    );
    const full = this.decode(this.tokens.slice(this.prefixOffset));
    if (
      full.length <= prefix.length ||
      full.endsWith('\uFFFD') ||
      !full.startsWith(prefix)
    )
      return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.tokens.length;
    return full.slice(prefix.length);
  }

  /** Returns whatever is still held back, incomplete characters included (as U+FFFD); call once at the end. */
  flush(): string {
    const prefix = this.decode(
      this.tokens.slice(this.prefixOffset, this.readOffset),
    );
    const full = this.decode(this.tokens.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.tokens.length;
    return full.startsWith(prefix) ? full.slice(prefix.length) : '';
  }
}
