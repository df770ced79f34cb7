import { InferenceError } from './inference-error';

/** A request's claim on a model's context window. */
export interface ContextClaim {
  /** Tokens of the longest prompt in the request. */
  promptTokens: number;
  /** The client's `max_tokens`, if it sent one. */
  maxTokens?: number;
  /** The model's context length (from its folder's `marquee.json`), prompt plus completion. */
  contextLength: number;
  /** The request field holding the prompt: `prompt` or `messages`. */
  promptParam: string;
}

/**
 * The exact context check, made once the prompt is tokenized: how many tokens each choice may
 * generate. Without `max_tokens` a choice may fill the rest of the window. (The gateway's check
 * before this one is the cheap bound `max_tokens < context length`, made before tokenizing.)
 *
 * @throws InferenceError `context_length_exceeded`, naming the prompt field when the prompt
 *   alone fills the window (or no `max_tokens` was sent), `max_tokens` otherwise.
 */
export function completionBudget(claim: ContextClaim): number {
  const { promptTokens, maxTokens, contextLength, promptParam } = claim;
  const budget = maxTokens ?? contextLength - promptTokens;
  if (promptTokens >= contextLength || promptTokens + budget > contextLength) {
    throw new InferenceError(
      'context_length_exceeded',
      maxTokens === undefined || promptTokens >= contextLength
        ? `This model's maximum context length is ${contextLength} tokens, and the ${promptParam} alone has ${promptTokens}. Please shorten the ${promptParam}.`
        : `This model's maximum context length is ${contextLength} tokens. However, you requested ${promptTokens + budget} tokens (${promptTokens} in the ${promptParam}, ${budget} for the completion). Please reduce the ${promptParam} or max_tokens.`,
      maxTokens === undefined || promptTokens >= contextLength
        ? promptParam
        : 'max_tokens',
    );
  }
  return budget;
}
