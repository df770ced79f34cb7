import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MODEL_FILES,
  type ModelEngine,
  readModelManifest,
} from '@marquee/shared/model-format';
import { type BatchModel, BatchScheduler } from './batch-scheduler';
import type { CausalLmSession } from './causal-lm-session';
import { loadCausalLm } from './native/native-causal-lm';
import { ChoiceStream } from './choice-stream';
import { EchoSession } from './echo-session';
import { InferenceError } from './inference-error';
import { completionBudget } from './context-window';
import { type ConstraintMatcher, GrammarEngine, GrammarError } from './grammar';
import { PromptError, PromptTokenizer } from '@marquee/shared/tokenization';
import type {
  ChoiceDelta,
  ExecutionProvider,
  GenerationParams,
  GenerationResult,
  OrtRuntime,
  OutputConstraint,
  PromptInput,
  TextGeneratorOptions,
} from './types';

/** What a generator runs its steps on: an ONNX Runtime session or the echo model. */
type GeneratorSession = BatchModel &
  Pick<CausalLmSession, 'release' | 'executionProvider'> & {
    runtime?: OrtRuntime;
  };

/**
 * A loaded causal LM that turns prompts into completions. Concurrent {@link generate} calls share
 * one continuous-batching {@link BatchScheduler}: every choice of every request in flight decodes
 * in the same model run.
 */
export class TextGenerator {
  /** The scheduler all requests to this model go through. */
  readonly scheduler: BatchScheduler;
  /**
   * What runs the graph: onnxruntime-node, Marquee's addon (KV cache in device memory), or
   * `echo` for an echo model, which runs none.
   */
  readonly runtime: OrtRuntime | 'echo';
  /** Built on the first constrained request: XGrammar's view of this tokenizer. */
  private grammar: Promise<GrammarEngine> | undefined;

  private constructor(
    /** Model name from `marquee.json`. */
    readonly name: string,
    /** Most tokens per sequence, prompt plus completion. */
    readonly contextLength: number,
    readonly executionProvider: ExecutionProvider,
    /** Token ids run from 0 to `vocabSize - 1` (config.json `vocab_size`). */
    readonly vocabSize: number,
    /** `echo` when no network runs (see `EchoSession`); `onnx` otherwise. */
    readonly engine: ModelEngine,
    private readonly modelDir: string,
    private readonly session: GeneratorSession,
    private readonly tokenizer: PromptTokenizer,
    private readonly eosTokenIds: ReadonlySet<number>,
    options: TextGeneratorOptions,
  ) {
    this.scheduler = new BatchScheduler(
      session,
      contextLength,
      options.scheduler,
    );
    this.runtime = session.runtime ?? 'echo';
  }

  /**
   * Loads a model folder (`model.onnx`, `tokenizer.json`, `tokenizer_config.json`, `config.json`,
   * `marquee.json`). Defaults: CPU, onnxruntime-node, graph optimisation `all`, ONNX Runtime's thread count. An
   * echo model (`marquee.json` `engine: "echo"`) has no `model.onnx`: its tokens come from an
   * {@link EchoSession} and the ONNX options do not apply.
   */
  static async load(
    modelDir: string,
    options: TextGeneratorOptions = {},
  ): Promise<TextGenerator> {
    const manifest = await readModelManifest(modelDir);
    if (manifest.task !== 'text-generation') {
      throw new InferenceError(
        'model_error',
        `${manifest.name} is a ${manifest.task} model, not text-generation`,
      );
    }
    const config = JSON.parse(
      await readFile(join(modelDir, MODEL_FILES.config), 'utf8'),
    ) as { vocab_size?: unknown };
    const vocabSize = config.vocab_size;
    if (typeof vocabSize !== 'number') {
      throw new InferenceError(
        'model_error',
        `${MODEL_FILES.config} of ${manifest.name} has no numeric vocab_size`,
      );
    }
    const engine = manifest.engine ?? 'onnx';
    const [session, tokenizer] = await Promise.all([
      engine === 'echo'
        ? new EchoSession(vocabSize, options.executionProvider)
        : loadCausalLm(modelDir, options),
      PromptTokenizer.load(modelDir),
    ]);
    const eos = new Set([
      manifest.eosTokenId,
      ...(await TextGenerator.generationEosIds(modelDir)),
    ]);
    if (tokenizer.eosTokenId !== undefined) eos.add(tokenizer.eosTokenId);
    return new TextGenerator(
      manifest.name,
      manifest.contextLength,
      session.executionProvider,
      vocabSize,
      engine,
      modelDir,
      session,
      tokenizer,
      eos,
      options,
    );
  }

  /** Tokenizes a prompt (applying the chat template for chat). */
  encode(prompt: PromptInput): number[] {
    try {
      return this.tokenizer.encode(prompt);
    } catch (error) {
      if (error instanceof PromptError)
        throw new InferenceError('invalid_prompt', error.message, error.param);
      throw error;
    }
  }

  /**
   * Runs one request in the shared batch: prefill then decode with a KV cache, calling `onDelta`
   * once per model step with a delta for every choice of this request that advanced in it.
   *
   * @throws InferenceError `context_length_exceeded` (param `max_tokens`) when prompt + maxTokens
   *   exceeds {@link contextLength}; `invalid_prompt` (param `prompt`) for no tokens; `cancelled`
   *   when `signal` aborts, with `partial` holding what was generated (and must be billed);
   *   `model_error` when ONNX Runtime fails.
   */
  async generate(
    promptTokenIds: number[],
    params: GenerationParams,
    onDelta: (deltas: ChoiceDelta[]) => void,
    signal?: AbortSignal,
  ): Promise<GenerationResult> {
    this.validate(promptTokenIds, params);
    const matchers = await this.matchers(params);
    const choices = Array.from(
      { length: params.n },
      (_, index) =>
        new ChoiceStream({
          index,
          params,
          decode: (ids) => this.tokenizer.decode(ids),
          eosTokenIds: this.eosTokenIds,
          promptTokenIds,
          tokenBytes: (id) => this.tokenizer.tokenBytes(id),
          constraint: matchers[index],
        }),
    );
    try {
      if (signal?.aborted) {
        const error = new InferenceError(
          'cancelled',
          'generation was cancelled',
        );
        error.partial = {
          promptTokens: promptTokenIds.length,
          completionTokens: 0,
          choices: choices.map((c) => c.result()),
        };
        throw error;
      }
      return await this.scheduler.submit({
        promptTokenIds,
        choices,
        maxTokens: params.maxTokens,
        onDelta,
        signal,
      });
    } finally {
      for (const choice of choices) choice.release();
    }
  }

  /**
   * Compiles a constraint (once: compiled grammars are cached), so a schema the grammar engine
   * refuses is found before the request starts.
   *
   * @throws InferenceError `invalid_prompt` naming `response_format.json_schema.schema`,
   *   `response_format` or `tools` for a constraint that cannot be compiled.
   */
  async compileConstraint(constraint: OutputConstraint): Promise<void> {
    await this.compiled(constraint);
  }

  private async compiled(constraint: OutputConstraint) {
    // A failed start is not kept: the next constrained request tries again.
    this.grammar ??= GrammarEngine.fromModelFolder(this.modelDir, {
      vocabSize: this.vocabSize,
      stopTokenIds: [...this.eosTokenIds],
    }).catch((error: unknown) => {
      this.grammar = undefined;
      throw error;
    });
    const grammar = await this.grammar;
    try {
      return { grammar, compiled: await grammar.compile(constraint) };
    } catch (error) {
      if (error instanceof GrammarError)
        throw new InferenceError(
          'invalid_prompt',
          error.message,
          constraint.kind === 'tool_calls'
            ? 'tools'
            : constraint.kind === 'json_schema'
              ? 'response_format.json_schema.schema'
              : 'response_format',
        );
      throw error;
    }
  }

  // One grammar matcher per choice when the request constrains its output; none made is kept
  // when one of them fails.
  private async matchers(
    params: GenerationParams,
  ): Promise<(ConstraintMatcher | undefined)[]> {
    const { constraint } = params;
    if (!constraint) return [];
    const { grammar, compiled } = await this.compiled(constraint);
    const made = await Promise.allSettled(
      Array.from({ length: params.n }, () => grammar.matcher(compiled)),
    );
    const failed = made.find((m) => m.status === 'rejected');
    if (!failed)
      return made.map(
        (m) => (m as PromiseFulfilledResult<ConstraintMatcher>).value,
      );
    for (const m of made) if (m.status === 'fulfilled') m.value.dispose();
    throw failed.reason;
  }

  /** Releases the ONNX Runtime session (nothing for an echo model). */
  async dispose(): Promise<void> {
    await this.grammar?.then(
      (grammar) => grammar.dispose(),
      () => undefined,
    );
    await this.session.release();
  }

  // Hugging Face's generation_config.json may name several EOS ids (chat models end turns with their own).
  private static async generationEosIds(modelDir: string): Promise<number[]> {
    let config: { eos_token_id?: number | number[] };
    try {
      config = JSON.parse(
        await readFile(join(modelDir, MODEL_FILES.generationConfig), 'utf8'),
      ) as typeof config;
    } catch {
      return [];
    }
    return [config.eos_token_id ?? []]
      .flat()
      .filter((id) => Number.isInteger(id));
  }

  private validate(
    promptTokenIds: readonly number[],
    params: GenerationParams,
  ): void {
    if (promptTokenIds.length === 0)
      throw new InferenceError(
        'invalid_prompt',
        'prompt must not be empty',
        'prompt',
      );
    if (
      promptTokenIds.some(
        (id) => !Number.isInteger(id) || id < 0 || id >= this.vocabSize,
      )
    )
      throw new InferenceError(
        'invalid_prompt',
        `prompt token ids must be integers from 0 to ${this.vocabSize - 1}`,
        'prompt',
      );
    if (!Number.isInteger(params.n) || params.n < 1)
      throw new RangeError(`n must be a positive integer, got ${params.n}`);
    if (!Number.isInteger(params.maxTokens) || params.maxTokens < 1) {
      throw new RangeError(
        `maxTokens must be a positive integer, got ${params.maxTokens}`,
      );
    }
    completionBudget({
      promptTokens: promptTokenIds.length,
      maxTokens: params.maxTokens,
      contextLength: this.contextLength,
      promptParam: 'prompt',
    });
  }
}
