import type { RequestFields } from '../schemas/request-fields';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const noPromptCache = { reason: 'Marquee keeps no prompt cache.' };
/**
 * `POST /v1/responses`: OpenAI's fields Marquee does not implement, and the values of them that
 * change nothing (accepted and dropped; the response echoes OpenAI's defaults for them).
 */
export const RESPONSE_FIELDS: RequestFields = {
  background: {
    harmless: (v) => v === false,
    reason:
      "Background responses are not supported; leave 'background' out or set it to false.",
  },
  conversation: {
    reason:
      "Conversation objects are not supported; continue a conversation with 'previous_response_id'.",
  },
  include: {
    harmless: (v) => Array.isArray(v) && v.length === 0,
    reason:
      'Marquee returns no additional output data (logprobs, built-in tool results, encrypted reasoning); leave it out or empty.',
  },
  prompt: {
    reason:
      "Stored prompt templates are not supported; send 'instructions' and 'input'.",
  },
  prompt_cache_key: noPromptCache,
  prompt_cache_retention: noPromptCache,
  prompt_cache_options: noPromptCache,
  reasoning: {
    harmless: (v) => isObject(v) && Object.values(v).every((x) => x === null),
    reason: "Marquee's models are not reasoning models.",
  },
  service_tier: {
    harmless: (v) => v === 'auto' || v === 'default',
    reason: "Marquee has one service tier: use 'auto' or 'default'.",
  },
  top_logprobs: {
    harmless: (v) => v === 0,
    reason:
      "Log probabilities are not returned by /v1/responses; use /v1/chat/completions with 'logprobs'.",
  },
  truncation: {
    harmless: (v) => v === 'disabled',
    reason:
      "Only 'disabled' is supported: an input longer than the model's context is refused with a 400, never cut.",
  },
  context_management: {
    harmless: (v) => Array.isArray(v) && v.length === 0,
    reason: 'Context management (compaction) is not supported.',
  },
  moderation: { reason: 'Moderation of inputs and outputs is not supported.' },
  access_programs: { reason: 'Access programs are not supported.' },
  image: {
    reason: "Image options are not supported: Marquee's models generate text.",
  },
};
