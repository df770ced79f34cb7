import type { GrammarMatcher } from '@mlc-ai/web-xgrammar';
import { UTF8_BOUNDARY, type Utf8Guard, type Utf8State } from './utf8-guard';

/** What a model's matchers forbid beside the grammar, shared by all of them. */
export interface TokenRules {
  /** The tokenizer's vocabulary as XGrammar knows it (the mask's width in bits). */
  vocabSize: number;
  /**
   * Tokens never to allow though XGrammar might: special tokens that are not stop tokens
   * (XGrammar reads `<|im_start|>` as literal text) and tokens that are invalid UTF-8.
   */
  forbidden: Int32Array;
  /** {@link forbidden} as one flag per token id. */
  isForbidden: Uint8Array;
  utf8: Utf8Guard;
}

/**
 * One sequence's position in a compiled constraint. Per decoding step: {@link prepare} (while the
 * forward pass runs), {@link apply} to the sequence's logits row, sample, {@link accept} the
 * token; stop when {@link terminated}. Not shareable between sequences.
 */
export class ConstraintMatcher {
  private mask: Int32Array | undefined;
  private preparing: Promise<void> | undefined;
  private done = false;
  private disposed = false;
  // Where the output so far stands inside a UTF-8 character.
  private utf8: Utf8State = UTF8_BOUNDARY;

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly rules: TokenRules,
  ) {}

  /** The grammar is complete and a stop token was accepted: the sequence must end. */
  get terminated(): boolean {
    return this.done;
  }

  /**
   * Computes which tokens may come next. Runs XGrammar on this thread (synchronous WASM after
   * one microtask); onnxruntime-node's runs are synchronous on this thread too, so its cost adds
   * to a decode step. Calling it again before {@link accept} reuses the mask.
   */
  prepare(): Promise<void> {
    if (this.disposed)
      return Promise.reject(
        new Error('prepare() on a disposed ConstraintMatcher'),
      );
    if (this.done)
      return Promise.reject(
        new Error(
          'prepare() on a terminated constraint: the sequence should have ended',
        ),
      );
    if (this.mask) return Promise.resolve();
    this.preparing ??= this.matcher.getNextTokenBitmask().then(
      (mask) => {
        this.mask = mask;
        this.preparing = undefined;
      },
      (error: unknown) => {
        this.preparing = undefined;
        throw error;
      },
    );
    return this.preparing;
  }

  /**
   * Sets, in place, every logit the prepared mask forbids to -Infinity: tokens the grammar does
   * not allow next, special tokens that are not stop tokens, tokens that would make invalid
   * UTF-8, and ids past the tokenizer's vocabulary (a model's `vocab_size` may be padded).
   */
  apply(logits: Float32Array): void {
    this.assertLive('apply');
    const mask = this.mask;
    if (!mask) throw new Error('apply() before prepare() finished');
    const n = logits.length;
    const width = Math.min(n, this.rules.vocabSize);
    for (let w = 0, base = 0; base < width; w++, base += 32) {
      const bits = mask[w];
      if (bits === -1) continue;
      const end = Math.min(base + 32, width);
      if (bits === 0) logits.fill(-Infinity, base, end);
      else
        for (let id = base; id < end; id++)
          if (((bits >>> (id - base)) & 1) === 0) logits[id] = -Infinity;
    }
    if (n > width) logits.fill(-Infinity, width, n);
    for (const id of this.rules.forbidden) if (id < n) logits[id] = -Infinity;
    this.rules.utf8.restrict(this.utf8, logits);
  }

  /** Advances past a sampled token; throws if the prepared mask did not allow it (an engine bug). */
  accept(token: number): void {
    this.assertLive('accept');
    if (this.preparing) throw new Error('accept() while prepare() is running');
    if (this.done) throw new Error('accept() on a terminated constraint');
    const mask = this.mask;
    const allowed =
      Number.isInteger(token) &&
      token >= 0 &&
      token < this.rules.vocabSize &&
      !this.rules.isForbidden[token] &&
      this.rules.utf8.allows(this.utf8, token) &&
      (!mask || ((mask[token >>> 5] >>> (token & 31)) & 1) === 1);
    if (!allowed || !this.matcher.acceptToken(token))
      throw new Error(`token ${token} is not allowed by the constraint here`);
    this.mask = undefined;
    this.utf8 = this.rules.utf8.after(this.utf8, token);
    this.done = this.matcher.isTerminated();
  }

  /** Frees the matcher's WASM memory (after a running {@link prepare}). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mask = undefined;
    const free = () => this.matcher.dispose();
    if (this.preparing) void this.preparing.then(free, free);
    else free();
  }

  private assertLive(method: string): void {
    if (this.disposed)
      throw new Error(`${method}() on a disposed ConstraintMatcher`);
  }
}
