/** A function call the assistant made earlier in the conversation; `arguments` is its JSON text. */
export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One chat message, its content already flattened to text. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** An assistant turn's function calls. */
  toolCalls?: ChatToolCall[];
  /** A `tool` message: the call it answers. */
  toolCallId?: string;
}

/** A function the model may call, as the chat template lists it. */
export interface ChatTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/**
 * A prompt as the API received it: raw text (completions) or chat messages (chat completions),
 * with the functions the template offers the model.
 */
export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[]; tools?: ChatTool[] };

/** A prompt that cannot be tokenized (empty text, no messages); `param` names the request field. */
export class PromptError extends Error {
  readonly code = 'invalid_prompt';

  constructor(
    message: string,
    readonly param: 'prompt' | 'messages',
  ) {
    super(message);
    this.name = 'PromptError';
  }
}
