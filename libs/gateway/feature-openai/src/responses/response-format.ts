import type { ChoiceFinishMessage } from '@marquee/contracts/proto';

/** Token counts in OpenAI's `usage` shape. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** What one finished choice looks like before it is shaped for an endpoint. */
export interface FinishedChoice {
  index: number;
  text: string;
  finishReason: ChoiceFinishMessage['finishReason'];
}

/**
 * How one endpoint shapes its responses: a whole body, or stream chunks. Every chunk of a
 * stream shares the response's `id` and `created`.
 */
export interface ResponseFormat {
  /** A chunk opening each choice (chat sends the role), or null. */
  openChunk(choiceIndex: number): object | null;
  textChunk(choiceIndex: number, text: string): object;
  finishChunk(choiceIndex: number, finishReason: string): object;
  /** The trailing chunk of `stream_options.include_usage`: no choices, just usage. */
  usageChunk(usage: Usage): object;
  body(choices: FinishedChoice[], usage: Usage): object;
}

interface Envelope {
  id: string;
  created: number;
  model: string;
}

/** `/v1/completions`: `text_completion` objects. */
export function completionFormat({
  id,
  created,
  model,
}: Envelope): ResponseFormat {
  const base = {
    id,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: null,
  };
  const choice = (index: number, text: string, finish: string | null) => ({
    text,
    index,
    logprobs: null,
    finish_reason: finish,
  });
  return {
    openChunk: () => null,
    textChunk: (index, text) => ({
      ...base,
      choices: [choice(index, text, null)],
    }),
    finishChunk: (index, reason) => ({
      ...base,
      choices: [choice(index, '', reason)],
    }),
    usageChunk: (usage) => ({ ...base, choices: [], usage }),
    body: (choices, usage) => ({
      ...base,
      choices: choices.map((c) => choice(c.index, c.text, c.finishReason)),
      usage,
    }),
  };
}

/** `/v1/chat/completions`: `chat.completion` bodies and `chat.completion.chunk` chunks. */
export function chatFormat({ id, created, model }: Envelope): ResponseFormat {
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
  };
  const delta = (index: number, d: object, finish: string | null) => ({
    index,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  });
  return {
    openChunk: (index) => ({
      ...chunk,
      choices: [delta(index, { role: 'assistant', content: '' }, null)],
    }),
    textChunk: (index, text) => ({
      ...chunk,
      choices: [delta(index, { content: text }, null)],
    }),
    finishChunk: (index, reason) => ({
      ...chunk,
      choices: [delta(index, {}, reason)],
    }),
    usageChunk: (usage) => ({ ...chunk, choices: [], usage }),
    body: (choices, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: null,
      choices: choices.map((c) => ({
        index: c.index,
        message: { role: 'assistant', content: c.text, refusal: null },
        logprobs: null,
        finish_reason: c.finishReason,
      })),
      usage,
    }),
  };
}
