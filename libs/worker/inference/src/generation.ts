import type { CausalLmSession } from './causal-lm-session';
import type { ChoiceStream } from './choice-stream';
import type { KvCache } from './kv-cache';
import type { ChoiceDelta, GenerationResult } from './types';

/**
 * One request's choices decoding together: a prefill of the prompt (batch 1, its KV cache then
 * tiled to every choice) and decode steps over the choices still running, dropping finished ones
 * from the batch. Each call is one model run, so a scheduler can interleave requests step by step.
 */
export class Generation {
  private cache: KvCache | undefined;
  private running: ChoiceStream[] = [];
  private lastTokens: number[] = [];

  constructor(
    private readonly session: CausalLmSession,
    private readonly promptTokenIds: readonly number[],
    private readonly choices: readonly ChoiceStream[],
  ) {}

  /** True once every choice has finished. */
  get done(): boolean {
    return this.cache !== undefined && this.running.length === 0;
  }

  /** Runs the prompt and samples each choice's first token. */
  async prefill(): Promise<ChoiceDelta[]> {
    if (this.cache) throw new Error('prefill has already run');
    const { logits, present } = await this.session.forward(
      { inputIds: [this.promptTokenIds] },
      true,
    );
    this.cache = present;
    this.running = [...this.choices];
    return this.advance(this.running.map(() => logits));
  }

  /** Feeds each running choice its last token and samples the next one. */
  async step(): Promise<ChoiceDelta[]> {
    if (!this.cache) throw new Error('prefill must run first');
    if (this.done) return [];
    const { logits, logitsDims, present } = await this.session.forward({
      inputIds: this.lastTokens.map((t) => [t]),
      past: this.cache,
    });
    this.cache = present;
    const vocab = logitsDims[2];
    return this.advance(
      this.running.map((_, row) =>
        logits.subarray(row * vocab, (row + 1) * vocab),
      ),
    );
  }

  /** Counts and texts so far (final once {@link done}). */
  result(): GenerationResult {
    const choices = this.choices.map((c) => c.result());
    return {
      promptTokens: this.promptTokenIds.length,
      completionTokens: choices.reduce((sum, c) => sum + c.completionTokens, 0),
      choices,
    };
  }

  // Samples one token per running choice, then keeps only the cache rows of choices still running.
  private advance(rows: Float32Array[]): ChoiceDelta[] {
    const deltas: ChoiceDelta[] = [];
    const keep: number[] = [];
    const tokens: number[] = [];
    this.running.forEach((choice, i) => {
      const token = choice.sample(rows[i]);
      deltas.push({
        index: choice.index,
        text: choice.accept(token),
        tokens: 1,
      });
      if (!choice.finishReason) {
        // A prefill cache has one row, shared by every choice.
        keep.push(this.cache?.batch === 1 ? 0 : i);
        tokens.push(token);
      }
    });
    this.running = this.running.filter((c) => !c.finishReason);
    this.lastTokens = tokens;
    this.cache = this.cache?.selectRows(keep);
    return deltas;
  }
}
