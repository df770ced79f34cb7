import type { CompiledGrammar } from '@mlc-ai/web-xgrammar';
import type { XGrammar } from './load-xgrammar';
import type { OutputConstraint } from './output-constraint';

/**
 * A constraint compiled against one model's tokenizer, shared by every request with an equal
 * constraint. Owned by the {@link GrammarEngine} that made it: when its cache evicts it, the
 * WASM memory is freed once no matcher is being created from it (a matcher keeps its own
 * reference to the grammar, so running matchers are unaffected).
 */
export class CompiledConstraint {
  private pins = 0;
  private evicted = false;
  private grammar: CompiledGrammar | undefined;

  constructor(
    /** The canonical key of {@link constraint}. */
    readonly key: string,
    readonly constraint: OutputConstraint,
    grammar: CompiledGrammar,
    /** The XGrammar instance the grammar lives in; its classes must be used with it. */
    readonly xg: XGrammar,
  ) {
    this.grammar = grammar;
  }

  /** Whether the WASM grammar is freed (the engine then compiles the constraint again). */
  get disposed(): boolean {
    return this.grammar === undefined;
  }

  /** Holds the grammar for the duration of an async use; undefined once freed. */
  pin(): CompiledGrammar | undefined {
    if (this.grammar) this.pins++;
    return this.grammar;
  }

  unpin(): void {
    this.pins--;
    if (this.pins === 0 && this.evicted) this.free();
  }

  /** Frees the grammar now, or when the last pin goes. Idempotent. */
  evict(): void {
    this.evicted = true;
    if (this.pins === 0) this.free();
  }

  private free(): void {
    this.grammar?.dispose();
    this.grammar = undefined;
  }
}
