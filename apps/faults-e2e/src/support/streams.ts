import type OpenAI from 'openai';
import { APIConnectionError, APIError } from 'openai';

/** How a request failed, as the client saw it. */
export interface ClientError {
  /**
   * `http`: an error status before any stream (APIError with a status); `event`: an error event
   * inside a 200 stream; `connection`: the connection broke (no OpenAI error at all);
   * `timeout`: the test's own deadline aborted a request that had not ended.
   */
  kind: 'http' | 'event' | 'connection' | 'timeout';
  status: number | null;
  code: string | null;
  type: string | null;
  message: string;
  /** `retry-after` of an HTTP error. */
  retryAfter: string | null;
}

/** One streamed chat completion as the official client saw it. */
export interface StreamOutcome {
  /** `x-request-id` (from the 200 response, or from the error response). */
  requestId: string | null;
  /** HTTP status: 200 once the stream opened, the error's status otherwise, null when none came. */
  status: number | null;
  /** Completion tokens received: one `logprobs.content` entry per token. */
  tokens: number;
  /** The final usage chunk (`stream_options.include_usage`). */
  usage: { promptTokens: number; completionTokens: number } | null;
  finishReason: string | null;
  /** Every chunk's `id` was `chatcmpl-` + the request id without `req_`. */
  idsMatchRequest: boolean;
  error: ClientError | null;
  startedAt: number;
  headersAt: number | null;
  /** When the first completion token arrived. */
  firstTokenAt: number | null;
  endedAt: number;
}

/** Ended normally: no error, a finish reason and the usage chunk (sent right before [DONE]). */
export function completed(outcome: StreamOutcome): boolean {
  return (
    outcome.error === null &&
    outcome.finishReason !== null &&
    outcome.usage !== null
  );
}

export interface StreamOptions {
  maxTokens: number;
  /** The client aborts the request after this long (and records `timeout`). */
  deadlineMs: number;
  prompt?: string;
  /** Called once the response headers came (the worker has taken the request). */
  onHeaders?: () => void;
  /** Called on every token received. */
  onToken?: () => void;
}

/**
 * Streams one chat completion with `logprobs` (to count tokens exactly: a chunk may carry
 * several) and `include_usage`, and records everything that happened. Never throws.
 */
export async function streamChat(
  client: OpenAI,
  model: string,
  options: StreamOptions,
): Promise<StreamOutcome> {
  const outcome: StreamOutcome = {
    requestId: null,
    status: null,
    tokens: 0,
    usage: null,
    finishReason: null,
    idsMatchRequest: true,
    error: null,
    startedAt: Date.now(),
    headersAt: null,
    firstTokenAt: null,
    endedAt: 0,
  };
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, options.deadlineMs);
  try {
    const { data: stream, response } = await client.chat.completions
      .create(
        {
          model,
          messages: [
            { role: 'user', content: options.prompt ?? 'Pitch a heist film' },
          ],
          max_tokens: options.maxTokens,
          temperature: 0,
          logprobs: true,
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: abort.signal },
      )
      .withResponse();
    outcome.status = response.status;
    outcome.requestId = response.headers.get('x-request-id');
    outcome.headersAt = Date.now();
    options.onHeaders?.();
    const expectedId = `chatcmpl-${(outcome.requestId ?? '').replace(/^req_/, '')}`;
    for await (const chunk of stream) {
      if (chunk.id !== expectedId) outcome.idsMatchRequest = false;
      for (const choice of chunk.choices) {
        const received = choice.logprobs?.content?.length ?? 0;
        if (received > 0) outcome.firstTokenAt ??= Date.now();
        outcome.tokens += received;
        for (let i = 0; i < received; i++) options.onToken?.();
        if (choice.finish_reason) outcome.finishReason = choice.finish_reason;
      }
      if (chunk.usage)
        outcome.usage = {
          promptTokens: chunk.usage.prompt_tokens,
          completionTokens: chunk.usage.completion_tokens,
        };
    }
    // The client ends an aborted stream quietly: the deadline still counts as a failure.
    if (timedOut) outcome.error = clientError(new Error('aborted'), true);
  } catch (error) {
    outcome.error = clientError(error, timedOut);
    if (outcome.requestId === null && error instanceof APIError)
      outcome.requestId = error.headers?.get('x-request-id') ?? null;
    if (outcome.status === null && error instanceof APIError && error.status)
      outcome.status = error.status;
  } finally {
    clearTimeout(timer);
    outcome.endedAt = Date.now();
  }
  return outcome;
}

function clientError(error: unknown, timedOut: boolean): ClientError {
  const base = {
    status: null,
    code: null,
    type: null,
    message: (error as Error)?.message ?? String(error),
    retryAfter: null,
  };
  if (timedOut) return { ...base, kind: 'timeout' };
  if (error instanceof APIConnectionError || !(error instanceof APIError))
    return { ...base, kind: 'connection' };
  const details = {
    code: error.code ?? null,
    type: error.type ?? null,
    message: error.message,
  };
  if (error.status)
    return {
      ...base,
      ...details,
      kind: 'http',
      status: error.status,
      retryAfter: error.headers?.get('retry-after') ?? null,
    };
  return { ...base, ...details, kind: 'event' };
}

/** Starts `count` streams at once and waits for every one to end. */
export function streamMany(
  count: number,
  start: (index: number) => Promise<StreamOutcome>,
): Promise<StreamOutcome[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => start(i)));
}

/** A short human summary of outcomes, for assertion messages and the test log. */
export function summarize(outcomes: StreamOutcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = completed(o)
      ? '200 completed'
      : o.error
        ? `${o.error.kind}${o.error.status ? ` ${o.error.status}` : ''}${o.error.code ? ` ${o.error.code}` : ''}`
        : `${o.status ?? '-'} ended without finish`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} x ${key}`).join(', ');
}
