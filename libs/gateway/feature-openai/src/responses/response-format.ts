import { randomBytes } from 'node:crypto';
import type {
  ChoiceFinishMessage,
  TokenLogprobMessage,
} from '@marquee/contracts/proto';
import { type ToolCallEvent, ToolCallParser } from './tool-call-parser';

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
  /**
   * `logprobs`: those of the tokens this text came from, when the request asked for them. Null
   * when there is nothing to send yet (text held back while it may open a tool call).
   */
  textChunk(
    choiceIndex: number,
    text: string,
    logprobs?: TokenLogprobMessage[],
  ): object | null;
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
  /** Chat only: function calls in the text become `tool_calls` (the request offered tools). */
  toolCalls?: boolean;
}

/** An id for a tool call, in OpenAI's `call_...` shape. */
export function toolCallId(): string {
  return `call_${randomBytes(18).toString('base64url')}`;
}

/** OpenAI ends a choice that called functions with `tool_calls`. */
const finishReasonOf = (reason: string, calls: number) =>
  reason === 'stop' && calls > 0 ? 'tool_calls' : reason;

/** A whole choice's text split into its content (null when there is none) and its calls. */
export function splitToolCalls(text: string) {
  const parser = new ToolCallParser();
  const events = [...parser.push(text), ...parser.flush()];
  let content = '';
  const calls: {
    id: string;
    type: 'function';
    function: { name: string; arguments: string };
  }[] = [];
  for (const e of events) {
    if (e.type === 'content') content += e.text;
    else if (e.type === 'call')
      calls.push({
        id: toolCallId(),
        type: 'function',
        function: { name: e.name, arguments: '' },
      });
    else calls[e.index].function.arguments += e.text;
  }
  return {
    content: calls.length > 0 && !content.trim() ? null : content,
    calls,
  };
}

// A stream delta for parsed events: content, and each call's opening or argument fragment.
function toolCallDelta(events: ToolCallEvent[]): object | null {
  let content: string | undefined;
  const toolCalls: object[] = [];
  for (const e of events) {
    if (e.type === 'content') content = (content ?? '') + e.text;
    else if (e.type === 'call')
      toolCalls.push({
        index: e.index,
        id: toolCallId(),
        type: 'function',
        function: { name: e.name, arguments: '' },
      });
    else toolCalls.push({ index: e.index, function: { arguments: e.text } });
  }
  if (content === undefined && toolCalls.length === 0) return null;
  return {
    ...(content === undefined ? {} : { content }),
    ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
  };
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
  toolCalls = false,
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
    ...chunk,
    choices: [{ index, delta: d, logprobs, finish_reason: finish }],
  });
  const logprobsObject = (logprobs: readonly TokenLogprobMessage[] = []) =>
    wanted ? { content: chatLogprobContent(logprobs), refusal: null } : null;
  const parsers = new Map<number, ToolCallParser>();
  const parser = (index: number) => {
    let p = parsers.get(index);
    if (!p) parsers.set(index, (p = new ToolCallParser()));
    return p;
  };
  return {
    openChunk: (index) =>
      delta(index, { role: 'assistant', content: '' }, null),
    textChunk: (index, text, logprobs) => {
      if (!toolCalls)
        return delta(index, { content: text }, null, logprobsObject(logprobs));
      const d = toolCallDelta(parser(index).push(text));
      return d || logprobs?.length
        ? delta(index, d ?? {}, null, logprobsObject(logprobs))
        : null;
    },
    finishChunk: (index, reason) => {
      if (!toolCalls) return delta(index, {}, reason);
      const p = parser(index);
      return delta(
        index,
        toolCallDelta(p.flush()) ?? {},
        finishReasonOf(reason, p.callCount),
      );
    },
    usageChunk: (usage) => ({ ...chunk, choices: [], usage }),
    body: (choices, usage) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: null,
      choices: choices.map((c) => {
        const split = toolCalls
          ? splitToolCalls(c.text)
          : { content: c.text, calls: [] };
        return {
          index: c.index,
          message: {
            role: 'assistant',
            content: split.content,
            refusal: null,
            ...(split.calls.length ? { tool_calls: split.calls } : {}),
          },
          logprobs: logprobsObject(c.logprobs),
          finish_reason: finishReasonOf(c.finishReason, split.calls.length),
        };
      }),
      usage,
    }),
  };
}
