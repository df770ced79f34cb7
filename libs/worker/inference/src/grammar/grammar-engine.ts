import type { GrammarCompiler, TokenizerInfo } from '@mlc-ai/web-xgrammar';
import { CompiledConstraint } from './compiled-constraint';
import { ConstraintMatcher, type TokenRules } from './constraint-matcher';
import { GrammarBuilder, type GrammarSource } from './grammar-builder';
import { GrammarError } from './grammar-error';
import { createXGrammarRuntime, type XGrammarRuntime } from './load-xgrammar';
import { constraintKey, type OutputConstraint } from './output-constraint';
import { readTokenizerVocab, type TokenizerVocab } from './tokenizer-vocab';
import { Utf8Guard } from './utf8-guard';

/** Options for {@link GrammarEngine.fromModelFolder}. */
export interface GrammarEngineOptions {
  /** Width of the model's logits (`vocab_size` in `config.json`); at least the tokenizer's. */
  vocabSize: number;
  /** Tokens that end a sequence; allowed exactly where the constraint may end. Not empty. */
  stopTokenIds: number[];
  /** Compiled constraints kept for reuse, least recently used evicted first. Default 64. */
  cacheSize?: number;
  /** Where XGrammar's warnings go. Default `console.warn`. */
  onWarning?: (line: string) => void;
}

/** Cache counters, for metrics. */
export interface GrammarCacheStats {
  hits: number;
  misses: number;
  /** Constraints held now, compiled or compiling. */
  size: number;
}

interface TokenizerRuntime {
  runtime: XGrammarRuntime;
  info: TokenizerInfo;
  compiler: GrammarCompiler;
}

interface CacheEntry {
  promise: Promise<CompiledConstraint>;
  settled: boolean;
  value?: CompiledConstraint;
}

/**
 * Constrained decoding for one loaded model: compiles {@link OutputConstraint}s against its
 * tokenizer with XGrammar (WASM) and hands out per-sequence {@link ConstraintMatcher}s.
 * Compiling runs synchronously on this thread once the grammar text is built (milliseconds for
 * small schemas with a small vocabulary; it grows with the vocabulary and the schema).
 */
export class GrammarEngine {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly builder: GrammarBuilder;
  private readonly rules: TokenRules;
  private readonly cacheSize: number;
  private tokenizerRuntime: Promise<TokenizerRuntime> | undefined;
  private tokenizerRuntimeNow: TokenizerRuntime | undefined;
  private hits = 0;
  private misses = 0;
  private disposed = false;

  private constructor(
    private readonly vocab: TokenizerVocab,
    private readonly options: Required<GrammarEngineOptions>,
  ) {
    this.builder = new GrammarBuilder(options.onWarning);
    this.cacheSize = options.cacheSize;
    const stops = new Set(options.stopTokenIds);
    const utf8 = new Utf8Guard(vocab.bytes);
    const isForbidden = new Uint8Array(options.vocabSize);
    for (const id of vocab.specialIds) if (!stops.has(id)) isForbidden[id] = 1;
    for (const id of utf8.forbidden) if (!stops.has(id)) isForbidden[id] = 1;
    const forbidden: number[] = [];
    isForbidden.forEach((flag, id) => flag && forbidden.push(id));
    this.rules = {
      vocabSize: options.vocabSize,
      forbidden: Int32Array.from(forbidden),
      isForbidden,
      utf8,
    };
  }

  /** Reads `tokenizer.json` from a model folder and starts XGrammar. */
  static async fromModelFolder(
    dir: string,
    options: GrammarEngineOptions,
  ): Promise<GrammarEngine> {
    const { vocabSize, stopTokenIds } = options;
    if (!Number.isInteger(vocabSize) || vocabSize <= 0)
      throw new RangeError(
        `vocabSize must be a positive integer, got ${vocabSize}`,
      );
    if (stopTokenIds.length === 0)
      throw new RangeError(
        'stopTokenIds must not be empty: a constraint could never end',
      );
    for (const id of stopTokenIds)
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
        throw new RangeError(
          `stop token ${id} is outside the vocabulary [0, ${vocabSize})`,
        );
    const vocab = await readTokenizerVocab(dir);
    if (vocab.encoded.length > vocabSize)
      throw new RangeError(
        `${dir}: the tokenizer has ${vocab.encoded.length} tokens, more than vocabSize ${vocabSize}`,
      );
    const engine = new GrammarEngine(vocab, {
      cacheSize: 64,
      onWarning: (line) => console.warn(`xgrammar: ${line}`),
      ...options,
    });
    await engine.tokenizer();
    return engine;
  }

  /**
   * Compiles a constraint, or returns the cached compilation of an equal one (concurrent calls
   * for one constraint share one compilation). Throws {@link GrammarError}, with `param` set,
   * for a constraint that cannot be enforced; those failures are cached too.
   */
  compile(constraint: OutputConstraint): Promise<CompiledConstraint> {
    if (this.disposed) return Promise.reject(disposedError());
    const key = constraintKey(constraint);
    const hit = this.cache.get(key);
    if (hit) {
      this.hits++;
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.promise;
    }
    this.misses++;
    const entry: CacheEntry = {
      promise: this.compileUncached(key, constraint),
      settled: false,
    };
    this.cache.set(key, entry);
    void entry.promise.then(
      (value) => {
        entry.settled = true;
        entry.value = value;
        if (this.disposed || this.cache.get(key) !== entry) value.evict();
        this.trim();
      },
      (error: unknown) => {
        entry.settled = true;
        // A bad constraint stays bad; anything else may pass on a retry.
        if (!(error instanceof GrammarError) && this.cache.get(key) === entry)
          this.cache.delete(key);
        this.trim();
      },
    );
    return entry.promise;
  }

  /** A matcher at the start of a compiled constraint. */
  async matcher(compiled: CompiledConstraint): Promise<ConstraintMatcher> {
    if (this.disposed) throw disposedError();
    let current = compiled;
    // Evicted before this call: compile again (usually a cache hit on its replacement).
    for (let attempt = 0; attempt < 3; attempt++) {
      const grammar = current.pin();
      if (!grammar) {
        current = await this.compile(current.constraint);
        continue;
      }
      try {
        const matcher =
          await current.xg.GrammarMatcher.createGrammarMatcher(grammar);
        return new ConstraintMatcher(matcher, this.rules);
      } finally {
        current.unpin();
      }
    }
    throw new Error(
      `constraint ${compiled.key} was evicted as fast as it was compiled`,
    );
  }

  /** Cache counters. */
  cacheStats(): GrammarCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }

  /** Size of the WASM memory compiled constraints and matchers live in, in bytes (grows only). */
  heapBytes(): number {
    return this.tokenizerRuntimeNow?.runtime.heapBytes() ?? 0;
  }

  /** Frees the cache and XGrammar's tokenizer data; live matchers keep working. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const entry of this.cache.values()) entry.value?.evict();
    this.cache.clear();
    const current = this.tokenizerRuntime;
    this.tokenizerRuntime = undefined;
    void current?.then(
      ({ info, compiler }) => {
        compiler.dispose();
        info.dispose();
      },
      () => undefined, // its failure was reported to whoever awaited it
    );
  }

  private tokenizer(): Promise<TokenizerRuntime> {
    this.tokenizerRuntime ??= (async () => {
      const runtime = createXGrammarRuntime(this.options.onWarning);
      const { xg } = runtime;
      const { encoded, vocabType, prependSpace } = this.vocab;
      const info = await xg.TokenizerInfo.createTokenizerInfo(
        encoded,
        vocabType,
        prependSpace,
        this.options.vocabSize,
        this.options.stopTokenIds,
      );
      const compiler = await xg.GrammarCompiler.createGrammarCompiler(
        info,
        false, // this engine's cache bounds what is kept
      );
      this.tokenizerRuntimeNow = { runtime, info, compiler };
      return this.tokenizerRuntimeNow;
    })();
    return this.tokenizerRuntime;
  }

  private async compileUncached(
    key: string,
    constraint: OutputConstraint,
  ): Promise<CompiledConstraint> {
    let source: GrammarSource;
    try {
      source = await this.builder.build(constraint);
    } catch (error) {
      if (!(error instanceof GrammarError)) throw error;
      throw new GrammarError(
        error.message,
        constraint.kind === 'tool_calls' ? 'tools' : 'response_format',
      );
    }
    if (this.disposed) throw disposedError();
    const tokenizer = this.tokenizer();
    const { runtime, compiler } = await tokenizer;
    const { xg } = runtime;
    try {
      if (source.kind === 'structural_tag')
        return new CompiledConstraint(
          key,
          constraint,
          await compiler.compileStructuralTag(source.tag),
          xg,
        );
      const grammar = await xg.Grammar.fromEBNF(source.ebnf);
      try {
        return new CompiledConstraint(
          key,
          constraint,
          await compiler.compileGrammar(grammar),
          xg,
        );
      } finally {
        grammar.dispose();
      }
    } catch (error) {
      // XGrammar rejected a grammar its own parser accepted in the builder: a bug on its side,
      // which may have aborted this instance. Later compiles start a fresh one.
      if (this.tokenizerRuntime === tokenizer) {
        this.tokenizerRuntime = undefined;
        this.tokenizerRuntimeNow = undefined;
      }
      const why =
        runtime.takeFatal() ??
        (error instanceof Error ? error.message : String(error));
      throw new Error(`XGrammar failed to compile a checked grammar: ${why}`);
    }
  }

  /** Drops the least recently used settled entries past the cache size. */
  private trim(): void {
    for (const [key, entry] of this.cache) {
      if (this.cache.size <= this.cacheSize) return;
      if (!entry.settled) continue;
      this.cache.delete(key);
      entry.value?.evict();
    }
  }
}

function disposedError(): Error {
  return new Error('GrammarEngine is disposed');
}
