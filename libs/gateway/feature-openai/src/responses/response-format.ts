import type {
  ChoiceFinishMessage,
  TokenLogprobMessage,
} from '@marquee/contracts/proto';

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
  /** Every token's logprob, when the request asked for them. */
  logprobs?: TokenLogprobMessage[];
}

/**
 * How one endpoint shapes its responses: a whole body, or stream chunks. Every chunk of a
 * stream shares the response's `id` and `created`.
 */
export interface ResponseFormat {
  /** A chunk opening each choice (chat sends the role), or null. */
  openChunk(choiceIndex: number): object | null;
  /** `logprobs`: those of the tokens this text came from, when the request asked for them. */
  textChunk(
    choiceIndex: number,
    text: string,
    logprobs?: TokenLogprobMessage[],
  ): object;
  finishChunk(choiceIndex: number, finishReason: string): object;
  /** The trailing chunk of `stream_options.include_usage`: no choices, just usage. */
  usageChunk(usage: Usage): object;
  body(choices: FinishedChoice[], usage: Usage): object;
}

interface Envelope {
  id: string;
  created: number;
  model: string;
  /** The request asked for logprobs: choices carry a `logprobs` object instead of null. */
  logprobs?: boolean;
}

const bytesOf = (bytes: Uint8Array | undefined) => Array.from(bytes ?? []);

/** Chat's `logprobs.content[]` entries. */
export function chatLogprobContent(logprobs: readonly TokenLogprobMessage[]) {
  return logprobs.map((l) => ({
    token: l.token,
    logprob: l.logprob,
    bytes: bytesOf(l.bytes),
    top_logprobs: (l.topLogprobs ?? []).map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: bytesOf(t.bytes),
    })),
  }));
}

/**
 * Legacy completions' `logprobs` object; `offset` is the length of the choice's text before
 * these tokens (`text_offset` counts characters from the start of the completion).
 */
export function completionLogprobs(
  logprobs: readonly TokenLogprobMessage[],
  offset = 0,
) {
  const textOffset: number[] = [];
  for (const l of logprobs) {
    textOffset.push(offset);
    offset += l.token.length;
  }
  return {
    tokens: logprobs.map((l) => l.token),
    token_logprobs: logprobs.map((l) => l.logprob),
    top_logprobs: logprobs.map((l) =>
      Object.fromEntries(
        (l.topLogprobs ?? []).map((t) => [t.token, t.logprob]),
      ),
    ),
    text_offset: textOffset,
  };
}

/** `/v1/completions`: `text_completion` objects. */
export function completionFormat({
  id,
  created,
  model,
  logprobs: wanted = false,
}: Envelope): ResponseFormat {
  const base = {
    id,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: null,
  };
  const choice = (
    index: number,
    text: string,
    finish: string | null,
    logprobs: object | null = null,
  ) => ({
    text,
    index,
    logprobs,
    finish_reason: finish,
  });
  // Streamed text_offset continues from each choice's text so far.
  const offsets = new Map<number, number>();
  return {
    openChunk: () => null,
    textChunk: (index, text, logprobs) => {
      const offset = offsets.get(index) ?? 0;
      offsets.set(
        index,
        offset + (logprobs ?? []).reduce((n, l) => n + l.token.length, 0),
      );
      return {
        ...base,
        choices: [
          choice(
            index,
            text,
            null,
            wanted ? completionLogprobs(logprobs ?? [], offset) : null,
          ),
        ],
      };
    },
    finishChunk: (index, reason) => ({
      ...base,
      choices: [choice(index, '', reason)],
    }),
    usageChunk: (usage) => ({ ...base, choices: [], usage }),
    body: (choices, usage) => ({
      ...base,
      choices: choices.map((c) =>
        choice(
          c.index,
          c.text,
          c.finishReason,
          wanted ? completionLogprobs(c.logprobs ?? []) : null,
        ),
      ),
      usage,
    }),
  };
}

/** `/v1/chat/completions`: `chat.completion` bodies and `chat.completion.chunk` chunks. */
export function chatFormat({
  id,
  created,
  model,
  logprobs: wanted = false,
}: Envelope): ResponseFormat {
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
  };
  const delta = (
    index: number,
    d: object,
    finish: string | null,
    logprobs: object | null = null,
  ) => ({
    index,
    delta: d,
    logprobs,
    finish_reason: finish,
  });
  const logprobsObject = (logprobs: readonly TokenLogprobMessage[] = []) =>
    wanted ? { content: chatLogprobContent(logprobs), refusal: null } : null;
  return {
    openChunk: (index) => ({
      ...chunk,
      choices: [delta(index, { role: 'assistant', content: '' }, null)],
    }),
    textChunk: (index, text, logprobs) => ({
      ...chunk,
      choices: [
        delta(index, { content: text }, null, logprobsObject(logprobs)),
      ],
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
        logprobs: logprobsObject(c.logprobs),
        finish_reason: c.finishReason,
      })),
      usage,
    }),
  };
}
