import { createHash } from 'node:crypto';

/** The request header, as clients (Stripe's and OpenAI's SDKs) spell it. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Longest key accepted, in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// C0 controls and DEL. Node's parser already refuses CR, LF and NUL in header values.
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Why a header value is not a usable key; null when it is one. */
export function idempotencyKeyProblem(value: string): string | null {
  if (value.length === 0)
    return `The ${IDEMPOTENCY_HEADER} header is empty; send a unique string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters (a UUID, say).`;
  if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    return `The ${IDEMPOTENCY_HEADER} header is ${value.length} characters long; it may be at most ${MAX_IDEMPOTENCY_KEY_LENGTH}.`;
  if (hasControlCharacter(value))
    return `The ${IDEMPOTENCY_HEADER} header contains a control character; use printable characters only.`;
  return null;
}

const sha256 = (text: string | Buffer) =>
  createHash('sha256').update(text).digest('hex');

/** The credential in `Authorization`: the bearer token, or the whole header when not a bearer one. */
export function credentialOf(authorization: string | undefined): string {
  const header = (authorization ?? '').trim();
  const bearer = /^bearer\s+(.+)$/i.exec(header);
  return bearer ? bearer[1].trim() : header;
}

/**
 * Who a key belongs to: a hash of the caller's credential ({@link credentialOf}). The token
 * itself is never stored or logged; the domain prefix keeps this hash apart from the key hash
 * the database stores.
 */
export function credentialScope(authorization: string | undefined): string {
  return sha256(`marquee-idempotency\u0000${credentialOf(authorization)}`);
}

/** The Redis key of one idempotency key of one credential. */
export function recordKey(scope: string, idempotencyKey: string): string {
  return `mq:idem:${sha256(`${scope}\u0000${idempotencyKey}`)}`;
}

/**
 * Serialises parsed JSON with object keys sorted, so two bodies that differ only in key order or
 * whitespace read the same. Array order is kept (it is meaningful).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object')
    return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const object = value as Record<string, unknown>;
  const fields = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
  return `{${fields.join(',')}}`;
}

/**
 * What makes two requests "the same" for a key: method, URL (path and query) and body. The body
 * is compared as parsed JSON in canonical form (key order and whitespace do not matter, values
 * do); a body Fastify left as bytes or text is compared byte for byte.
 */
export function requestFingerprint(
  method: string,
  url: string,
  body: unknown,
): string {
  const content =
    body === undefined
      ? ''
      : Buffer.isBuffer(body)
        ? `bytes:${sha256(body)}`
        : typeof body === 'string'
          ? `text:${body}`
          : `json:${canonicalJson(body)}`;
  return sha256(`${method.toUpperCase()} ${url}\n${content}`);
}
