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

const SSE_DONE = Buffer.from('data: [DONE]\n\n');

/**
 * Whether a finished response may be replayed. A stream is kept only when it ran to its
 * `data: [DONE]`: one that ended on an error event failed mid-way and is worth retrying.
 */
export function isReplayable(response: StoredResponse): boolean {
  if (isRetryableStatus(response.status)) return false;
  const type = response.headers['content-type'] ?? '';
  if (type.startsWith('text/event-stream'))
    return (
      response.body.length >= SSE_DONE.length &&
      response.body
        .subarray(response.body.length - SSE_DONE.length)
        .equals(SSE_DONE)
    );
  return true;
}
