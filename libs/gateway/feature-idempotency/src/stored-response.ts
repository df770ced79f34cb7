/** A response as kept for replay. */
export interface StoredResponse {
  status: number;
  /** Only the headers a client acts on (see {@link replayableHeaders}), lower-case names. */
  headers: Record<string, string>;
  /** The body exactly as sent: JSON, or a whole SSE stream. */
  body: Buffer;
}

/** The header that marks a replayed response. */
export const REPLAYED_HEADER = 'idempotent-replayed';

// What a client reads: the body's type, the request id (it names the usage row), rate-limit
// state, OpenAI's own headers, and for SSE the caching hints. Connection and length headers are
// the transport's business and are recomputed on replay.
const REPLAYED =
  /^(content-type|cache-control|x-accel-buffering|x-request-id|location|openai-[a-z0-9-]+|x-ratelimit-[a-z0-9-]+)$/;

/** The subset of response headers stored and replayed. */
export function replayableHeaders(
  headers: Record<string, unknown>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !REPLAYED.test(lower)) continue;
    kept[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

/**
 * Statuses that say "try again": rate limits and quota (429), a conflict (409), timeouts (408,
 * 425) and every server error. Authentication failures (401, 403) depend on the credential, not
 * on the request. None of these is stored: the key is released so a retry runs for real.
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status >= 500 ||
    status === 401 ||
    status === 403 ||
    status === 408 ||
    status === 409 ||
    status === 425 ||
    status === 429
  );
}

/** Events that end a Responses API stream that ran to its end. */
const RESPONSES_FINAL_EVENTS = new Set([
  'response.completed',
  'response.incomplete',
]);

/**
 * Whether a finished response may be replayed. A stream is kept only when it ran to its end:
 * chat and completions streams to `data: [DONE]`, Responses API streams to their
 * `response.completed` or `response.incomplete` event. One that ended on an error event failed
 * mid-way and is worth retrying.
 */
export function isReplayable(response: StoredResponse): boolean {
  if (isRetryableStatus(response.status)) return false;
  const type = response.headers['content-type'] ?? '';
  if (type.startsWith('text/event-stream'))
    return ranToItsEnd(response.body.toString('utf8'));
  return true;
}

// The last event's data line: events end with a blank line, and JSON holds no raw newline.
function ranToItsEnd(stream: string): boolean {
  if (!stream.endsWith('\n\n')) return false;
  const previous = stream.lastIndexOf('\n\n', stream.length - 3);
  const frame = previous < 0 ? stream : stream.slice(previous + 2);
  const line = frame.split('\n').find((l) => l.startsWith('data: '));
  if (line === undefined) return false;
  const data = line.slice('data: '.length);
  if (data === '[DONE]') return true;
  try {
    const event = JSON.parse(data) as { type?: unknown };
    return (
      typeof event.type === 'string' && RESPONSES_FINAL_EVENTS.has(event.type)
    );
  } catch {
    return false;
  }
}
