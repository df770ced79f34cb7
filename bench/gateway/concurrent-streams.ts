/**
 * The gateway bench's last phase, issue 10's "500 concurrent streams with no lost frame": that
 * many streamed chat completions opened at once against Marquee with the echo model, each read
 * to its end and checked against the usage chunk the gateway sends before `[DONE]`.
 */
import { percentile } from '../bench-report';
import { takeSseData } from './load';

/** What one stream of the phase saw. Times in milliseconds from when its request was sent. */
interface StreamOutcome {
  /** HTTP status, null when no response came (connection error, deadline). */
  status: number | null;
  /** How it failed, as a key for counting (`429 rate_limit_exceeded`, `event ...`); null: it did not. */
  error: string | null;
  /** Chunks with non-empty `delta.content`. */
  textChunks: number;
  /** Tokens received: one `logprobs.content` entry per token (a chunk may carry several, or a special token with no text). */
  tokens: number;
  /** `usage.completion_tokens` of the final usage chunk; null when none came. */
  usageTokens: number | null;
  done: boolean;
  firstToken: number | null;
  total: number;
}

interface Chunk {
  error?: { message?: string; code?: string | null; type?: string };
  choices?: {
    delta?: { content?: string | null };
    logprobs?: { content?: unknown[] | null } | null;
  }[];
  usage?: { completion_tokens?: number } | null;
}

/** The request of every stream: chat, `logprobs` to count tokens exactly, and the usage chunk. */
function body(model: string, prompt: string, maxTokens: number): string {
  return JSON.stringify({
    model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: maxTokens,
    temperature: 0,
    logprobs: true,
    stream: true,
    stream_options: { include_usage: true },
  });
}

/** `code` (or `type`) of an OpenAI error body, for counting errors by kind. */
function errorCode(text: string): string {
  try {
    const error = (JSON.parse(text) as Chunk).error;
    return error?.code ?? error?.type ?? 'no code';
  } catch {
    return 'not JSON';
  }
}

/** Sends one streamed request and reads it to its end (or the deadline). Never throws. */
async function oneStream(
  url: string,
  headers: Record<string, string>,
  payload: string,
  deadlineMs: number,
): Promise<StreamOutcome> {
  const started = performance.now();
  const outcome: StreamOutcome = {
    status: null,
    error: null,
    textChunks: 0,
    tokens: 0,
    usageTokens: null,
    done: false,
    firstToken: null,
    total: 0,
  };
  const signal = AbortSignal.timeout(deadlineMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: payload,
      signal,
    });
    outcome.status = response.status;
    if (response.status !== 200 || !response.body) {
      outcome.error = `${response.status} ${errorCode(await response.text())}`;
      return outcome;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const bytes of response.body) {
      const now = performance.now() - started;
      const { data: events, rest } = takeSseData(
        buffer + decoder.decode(bytes, { stream: true }),
      );
      buffer = rest;
      for (const data of events) {
        if (data === '[DONE]') {
          outcome.done = true;
          continue;
        }
        let chunk: Chunk;
        try {
          chunk = JSON.parse(data) as Chunk;
        } catch {
          outcome.error ??= 'event not JSON';
          continue;
        }
        if (chunk.error) {
          outcome.error ??= `event ${chunk.error.code ?? chunk.error.type ?? 'no code'}`;
          continue;
        }
        for (const choice of chunk.choices ?? []) {
          if (choice.delta?.content) outcome.textChunks += 1;
          const received = choice.logprobs?.content?.length ?? 0;
          if (received > 0) outcome.firstToken ??= now;
          outcome.tokens += received;
        }
        if (chunk.usage)
          outcome.usageTokens = chunk.usage.completion_tokens ?? null;
      }
    }
  } catch (error) {
    outcome.error = signal.aborted
      ? `timeout after ${deadlineMs} ms`
      : `connection ${(error as Error).message}`;
  } finally {
    outcome.total = performance.now() - started;
  }
  return outcome;
}

/**
 * A stream that lost frames: it opened (200) but its tokens do not add up to its usage chunk's,
 * or it never said `[DONE]` (a stream broken by an error event or a dropped connection counts
 * here as well as among the errors).
 */
function lostFrames(o: StreamOutcome): boolean {
  return o.status === 200 && (!o.done || o.usageTokens !== o.tokens);
}

const ms = (values: number[]) =>
  values.length
    ? { p50: percentile(values, 50), p99: percentile(values, 99) }
    : null;

/**
 * Opens `count` streams of `maxTokens` tokens at once (plain `fetch`, no retries) and waits for
 * every one to end; a stream still open after `deadlineMs` counts as an error.
 */
export async function concurrentStreams(options: {
  url: string;
  apiKey: string;
  model: string;
  prompt: string;
  count: number;
  maxTokens: number;
  deadlineMs: number;
}) {
  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    'content-type': 'application/json',
  };
  const payload = body(options.model, options.prompt, options.maxTokens);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: options.count }, () =>
      oneStream(options.url, headers, payload, options.deadlineMs),
    ),
  );
  const wallMs = performance.now() - started;
  const errorsByKind: Record<string, number> = {};
  for (const o of outcomes)
    if (o.error) errorsByKind[o.error] = (errorsByKind[o.error] ?? 0) + 1;
  const clean = outcomes.filter((o) => o.status === 200 && !o.error);
  const lost = outcomes.filter(lostFrames);
  return {
    /** Requests sent at once. */
    streams: options.count,
    /** Answered 200 (the stream began). */
    opened: outcomes.filter((o) => o.status === 200).length,
    maxTokens: options.maxTokens,
    /** 200, `[DONE]`, no error, tokens received == usage.completion_tokens == maxTokens. */
    completed: clean.filter(
      (o) =>
        o.done &&
        o.usageTokens === o.tokens &&
        o.usageTokens === options.maxTokens,
    ).length,
    errored: outcomes.filter((o) => o.error).length,
    errorsByKind,
    /** 200 streams whose tokens differ from their usage, or with no `[DONE]` (see lostFrames). */
    framesLost: lost.length,
    withoutDone: outcomes.filter((o) => o.status === 200 && !o.done).length,
    withoutUsage: outcomes.filter(
      (o) => o.status === 200 && o.usageTokens === null,
    ).length,
    /** Streams whose usage.completion_tokens is not maxTokens (echo always gives maxTokens). */
    usageNotMaxTokens: clean.filter(
      (o) => o.usageTokens !== null && o.usageTokens !== options.maxTokens,
    ).length,
    tokensReceived: outcomes.reduce((n, o) => n + o.tokens, 0),
    textChunksReceived: outcomes.reduce((n, o) => n + o.textChunks, 0),
    wallMs: Number(wallMs.toFixed(1)),
    timeToFirstTokenMs: ms(
      outcomes.flatMap((o) => (o.firstToken === null ? [] : [o.firstToken])),
    ),
    totalMs: ms(clean.map((o) => o.total)),
  };
}

export type ConcurrentStreamsResult = Awaited<
  ReturnType<typeof concurrentStreams>
>;

/** The summary's one line. */
export function concurrentStreamsLine(r: ConcurrentStreamsResult): string {
  const errors = Object.entries(r.errorsByKind)
    .map(([kind, n]) => `${n} x ${kind}`)
    .join(', ');
  return (
    `${r.streams} concurrent streams (echo, ${r.maxTokens} tokens): ${r.opened} opened, ${r.completed} completed, ` +
    `${r.errored} errored${errors ? ` (${errors})` : ''}, ${r.framesLost} with lost frames, ` +
    `wall ${(r.wallMs / 1000).toFixed(2)} s, TTFT p50 ${r.timeToFirstTokenMs?.p50.toFixed(1) ?? '-'} ms p99 ${r.timeToFirstTokenMs?.p99.toFixed(1) ?? '-'} ms`
  );
}
