import type { ChatMessage, PromptInput } from '@marquee/shared/tokenization';
import type { OutputConstraint } from './grammar';

export type { ChatMessage, OutputConstraint, PromptInput };

/** Where the ONNX graph runs: `cuda` needs the CUDA provider library next to `libonnxruntime.so.1`. */
export type ExecutionProvider = 'cpu' | 'cuda';

/** Sampling and length controls for one request (OpenAI semantics). */
export interface GenerationParams {
  /** Most tokens to generate per choice (≥ 1). A choice that reaches it finishes with `length`. */
  maxTokens: number;
  /** Number of choices (≥ 1), decoded together as one batch; the prompt is counted once. */
  n: number;
  /** 0 means greedy (argmax); otherwise logits are divided by it before softmax. */
  temperature: number;
  /** Nucleus mass in (0, 1]: sample only from the smallest set of tokens whose probability reaches it. */
  topP: number;
  /** With a seed, the same request gives the same tokens every time; without one, output is random. */
  seed?: number;
  /** Up to 4 strings; generation stops before the first one appears, which is not part of the text. */
  stop: string[];
  /** Sample only from the `topK` most likely tokens; 0 or absent: no limit. */
  topK?: number;
  /** In [-2, 2]; default 0. Lowers the logit of every token the choice has already generated. */
  presencePenalty?: number;
  /** In [-2, 2]; default 0. Lowers a token's logit in proportion to how often the choice generated it. */
  frequencyPenalty?: number;
  /** Token id to a bias in [-100, 100] added to its logit. */
  logitBias?: Readonly<Record<number, number>>;
  /**
   * Report log-probabilities of each generated token and this many (0..20) top alternatives;
   * absent: none. EOS tokens, which produce no text, get no entry.
   */
  logprobs?: number;
  /**
   * Hold every choice's output to a grammar (JSON, a JSON Schema, or function calls): tokens it
   * forbids are masked before sampling, so the text always fits it.
   */
  constraint?: OutputConstraint;
}

/** A token as log-probabilities report it: its text, its raw bytes and its log-probability. */
export interface TokenLogprobCandidate {
  /** The token's bytes decoded as UTF-8 (a partial character shows as U+FFFD). */
  token: string;
  /** The token's own bytes (byte-level tokens may hold part of a UTF-8 character). */
  bytes: number[];
  /** Natural log of its probability. */
  logprob: number;
}

/** A generated token's log-probability and the most likely alternatives at its position. */
export interface TokenLogprob extends TokenLogprobCandidate {
  /** Most likely first; as many as {@link GenerationParams.logprobs}. */
  topLogprobs: TokenLogprobCandidate[];
}

/** New text and token count of one choice since that choice's previous delta. */
export interface ChoiceDelta {
  index: number;
  /** May be empty: text is held back while it could still be the start of a stop string or of a UTF-8 character. */
  text: string;
  /** Tokens generated since the previous delta (billing counts them even when `text` is empty). */
  tokens: number;
  /** One entry per generated token that has text, when the request asked for logprobs. */
  logprobs?: TokenLogprob[];
}

/** `stop`: EOS or a stop string; `length`: `maxTokens` reached (or, in a cancelled run's partial result, cut short). */
export type FinishReason = 'stop' | 'length';

/** Final state of one choice. */
export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: FinishReason;
  /** Tokens generated for this choice, including an EOS token and the token that completed a stop string. */
  completionTokens: number;
}

/** The outcome of one request; `completionTokens` is the sum over choices. */
export interface GenerationResult {
  promptTokens: number;
  completionTokens: number;
  choices: ChoiceResult[];
}

/** Which ONNX Runtime binding runs a causal LM's graph (see {@link TextGeneratorOptions.runtime}). */
export type OrtRuntime = 'onnxruntime-node' | 'addon';

/** How to load a model folder. */
export interface TextGeneratorOptions {
  /** Default `cpu`. */
  executionProvider?: ExecutionProvider;
  /**
   * When `executionProvider` cannot start, run on the CPU instead of failing to load. Off by
   * default: a GPU worker silently serving from its CPU is an outage that looks like one slow.
   */
  cpuFallback?: boolean;
  /** Told why, when `cpuFallback` was used (the worker logs it as a warning). */
  onFallback?: (reason: string) => void;
  /**
   * Which ONNX Runtime binding runs a causal LM: `onnxruntime-node` (default; it copies the KV
   * cache through host memory every step) or `addon`, Marquee's addon over the same ONNX Runtime
   * (`npm run build:addon`), which keeps the KV cache in the device's memory. Same tokens either
   * way. When the addon is asked for but not built, or cannot run the graph, the model runs on
   * onnxruntime-node and `onRuntimeFallback` is told why.
   */
  runtime?: OrtRuntime;
  /** Told why, when `runtime: 'addon'` was asked for but onnxruntime-node runs the model. */
  onRuntimeFallback?: (reason: string) => void;
  /** Threads for one operator; default: ONNX Runtime's choice (one per physical core). */
  intraOpThreads?: number;
  /** ONNX Runtime graph optimisation level; default `all`. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Limits of the continuous-batching scheduler every request of this model shares. */
  scheduler?: Partial<SchedulerLimits>;
}

/** How much the continuous-batching scheduler may hold at once. */
export interface SchedulerLimits {
  /** Most sequences (choices) decoding together in one batch. Default 32. */
  maxBatchSize: number;
  /**
   * Most tokens in flight: the sum, over running sequences, of prompt plus `maxTokens` (the
   * context each may grow to). Default 32 x the model's context length.
   */
  maxTokensInFlight: number;
  /**
   * KV-cache memory budget in bytes. Admission reserves each sequence's worst case
   * ((prompt + maxTokens) x layers x 2 x heads x headDim x dtype bytes) and waits while the
   * reservations would pass it. Default 2 GiB.
   */
  kvBudgetBytes: number;
  /**
   * Most prompt tokens (padding included) prefilled in one model run. Prompts admitted together
   * share a run up to this; a longer prompt is prefilled alone in chunks of this many tokens, with
   * a decode step of the running batch between chunks. Default 2048.
   */
  maxPrefillTokens: number;
  /**
   * Padding a running sequence may carry to decode in the same model run as longer ones: up to
   * this many positions, or up to half the longest one's length. Sequences further apart decode
   * in separate runs, because attending over (and copying) padding every step costs more than a
   * run: in `npm run bench:engine` on CPU, eight short sequences took 57 ms a step sharing a
   * 1,536-token sequence's width and 12 ms (both runs) in groups. On a GPU, where a run has a
   * fixed launch cost, a larger value trades padding for fewer runs; `Infinity` keeps one padded
   * batch. Default 64.
   */
  freePaddingTokens: number;
}
