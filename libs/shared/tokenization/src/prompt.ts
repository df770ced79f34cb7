/** One chat message, its content already flattened to text. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A prompt as the API received it: raw text (completions) or chat messages (chat completions). */
export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'chat'; messages: ChatMessage[] };

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
