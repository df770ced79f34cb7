/** Where the ONNX graph runs: `cuda` needs the CUDA provider library next to `libonnxruntime.so.1`. */
export type ExecutionProvider = 'cpu' | 'cuda';

/** One chat turn, as in OpenAI's `messages`. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A prompt as the API received it: raw text (completions) or chat messages (chat completions). */
export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[] };

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
}

/** New text and token count of one choice since that choice's previous delta. */
export interface ChoiceDelta {
  index: number;
  /** May be empty: text is held back while it could still be the start of a stop string or of a UTF-8 character. */
  text: string;
  /** Tokens generated since the previous delta (billing counts them even when `text` is empty). */
  tokens: number;
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

/** How to load a model folder. */
export interface TextGeneratorOptions {
  /** Default `cpu`. */
  executionProvider?: ExecutionProvider;
  /** Threads for one operator; default: ONNX Runtime's choice (one per physical core). */
  intraOpThreads?: number;
  /** ONNX Runtime graph optimisation level; default `all`. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}
