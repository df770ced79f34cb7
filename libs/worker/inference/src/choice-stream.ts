import type { ConstraintMatcher } from './grammar';
import { IncrementalDecoder, type DecodeTokens } from './incremental-decoder';
import { type SampledToken, Sampler } from './sampler';
import { StopMatcher } from './stop-matcher';
import type {
  ChoiceResult,
  FinishReason,
  GenerationParams,
  TokenLogprob,
  TokenLogprobCandidate,
} from './types';

const utf8 = new TextDecoder();

/** Everything a choice needs besides the model: how to decode and when to end. */
export interface ChoiceStreamOptions {
  index: number;
  params: GenerationParams;
  decode: DecodeTokens;
  /** Token ids that end generation (not part of the text). */
  eosTokenIds: ReadonlySet<number>;
  /** Prompt tokens, for the decoder's context. */
  promptTokenIds: readonly number[];
  /** A token's raw bytes; needed only when `params.logprobs` is set. */
  tokenBytes?: (tokenId: number) => Uint8Array;
  /** Holds the output to a grammar: tokens it forbids are never sampled. */
  constraint?: ConstraintMatcher;
}

/**
 * The state of one choice of a request: its sampler, incremental decoder and stop matcher,
 * the text emitted so far and its token count. Knows nothing of the model or the batch it is in.
 */
export class ChoiceStream {
  readonly index: number;
  private readonly sampler: Sampler;
  private readonly decoder: IncrementalDecoder;
  private readonly matcher: StopMatcher;
  private readonly maxTokens: number;
  private readonly eosTokenIds: ReadonlySet<number>;
  private readonly ids: number[] = [];
  private emitted = '';
  private tokens = 0;
  private finish: FinishReason | undefined;
  private picked: SampledToken | undefined;
  private readonly tokenBytes?: (tokenId: number) => Uint8Array;
  private constraint: ConstraintMatcher | undefined;
  private maskFailure: unknown;

  constructor(options: ChoiceStreamOptions) {
    this.constraint = options.constraint;
    const { index, params } = options;
    this.index = index;
    this.sampler = new Sampler({
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      presencePenalty: params.presencePenalty,
      frequencyPenalty: params.frequencyPenalty,
      logitBias: params.logitBias
        ? new Map(
            Object.entries(params.logitBias).map(([k, v]) => [Number(k), v]),
          )
        : undefined,
      logprobs: params.logprobs,
      seed: params.seed,
      stream: index,
    });
    this.tokenBytes = options.tokenBytes;
    this.decoder = new IncrementalDecoder(
      options.decode,
      options.promptTokenIds,
    );
    this.matcher = new StopMatcher(params.stop);
    this.maxTokens = params.maxTokens;
    this.eosTokenIds = options.eosTokenIds;
  }

  /** Set once the choice has ended. */
  get finishReason(): FinishReason | undefined {
    return this.finish;
  }

  /** Tokens generated so far. */
  get completionTokens(): number {
    return this.tokens;
  }

  /** Token ids generated so far, EOS included. */
  get tokenIds(): readonly number[] {
    return this.ids;
  }

  /** Whether a grammar constrains this choice (its mask must be {@link prepare}d before each sample). */
  get constrained(): boolean {
    return this.constraint !== undefined;
  }

  /**
   * Computes the grammar's mask for the next token, before the model run whose logits it masks.
   * Nothing to do for an unconstrained choice. Never rejects: a failure is kept, and the next
   * {@link sample} throws it.
   */
  async prepare(): Promise<void> {
    try {
      await this.constraint?.prepare();
    } catch (error) {
      this.maskFailure = error;
    }
  }

  /**
   * Samples this choice's next token from its row of logits; a grammar's mask, prepared
   * beforehand, overwrites the row (the caller hands each constrained choice a row of its own).
   */
  sample(logits: Float32Array): number {
    if (this.maskFailure !== undefined) throw this.maskFailure;
    this.constraint?.apply(logits);
    this.picked = this.sampler.pick(logits);
    return this.picked.token;
  }

  /** Frees the grammar matcher; idempotent. The choice samples unconstrained afterwards. */
  release(): void {
    this.constraint?.dispose();
    this.constraint = undefined;
  }

  /**
   * The log-probability entry of the token just sampled, when the request asked for logprobs
   * (none for EOS, which has no text).
   */
  lastLogprob(): TokenLogprob | undefined {
    const picked = this.picked;
    if (
      !picked ||
      picked.logprob === undefined ||
      !this.tokenBytes ||
      this.eosTokenIds.has(picked.token)
    )
      return undefined;
    return {
      ...this.candidate(picked.token, picked.logprob),
      topLogprobs: (picked.top ?? []).map((c) =>
        this.candidate(c.token, c.logprob),
      ),
    };
  }

  /** Records a generated token; returns the text it releases (possibly ''). */
  accept(tokenId: number): string {
    if (this.finish)
      throw new Error(`choice ${this.index} has already finished`);
    this.constraint?.accept(tokenId);
    this.tokens++;
    this.ids.push(tokenId);
    let out: string;
    if (this.eosTokenIds.has(tokenId)) {
      out = this.end(this.decoder.flush(), 'stop');
    } else {
      const match = this.matcher.push(this.decoder.push(tokenId));
      if (match.stopped) {
        this.finish = 'stop';
        out = match.text;
      } else if (this.tokens >= this.maxTokens) {
        out = match.text + this.end(this.decoder.flush(), 'length');
      } else {
        out = match.text;
      }
    }
    this.emitted += out;
    if (this.finish) this.release();
    return out;
  }

  /** The choice as it stands; an unfinished choice (a cancelled run) reports `length`. */
  result(): ChoiceResult {
    return {
      index: this.index,
      text: this.emitted,
      finishReason: this.finish ?? 'length',
      completionTokens: this.tokens,
    };
  }

  private candidate(tokenId: number, logprob: number): TokenLogprobCandidate {
    const bytes = this.tokenBytes?.(tokenId) ?? new Uint8Array(0);
    return {
      token: utf8.decode(bytes),
      bytes: Array.from(bytes),
      logprob,
    };
  }

  // Ends the choice: the decoder's remainder may still complete a stop string.
  private end(rest: string, reason: FinishReason): string {
    const match = this.matcher.push(rest);
    this.finish = match.stopped ? 'stop' : reason;
    return match.stopped ? match.text : match.text + this.matcher.flush();
  }
}
