import fastifyCors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Response headers a browser script calling `/v1/*` may read: the request id, the rate-limit
 * state and the retry hints the `openai` client acts on.
 */
export const CORS_EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  'idempotent-replayed',
] as const;

/** How long a browser may reuse a preflight's answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

/** Only the OpenAI-compatible API; the admin API and the dashboard are same-origin only. */
const isApi = (url: string) =>
  url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');

/** No CORS headers at all: the browser keeps the response from the calling page. */
const DENIED: FastifyCorsOptions = { origin: false };

/**
 * Lets browser pages on `origins` (`'*'`: any; none when empty) call `/v1/*`: preflights are
 * answered 204 with the methods and the request headers asked for (the `openai` client sends
 * `authorization`, `content-type` and its `x-stainless-*` headers), and responses expose
 * {@link CORS_EXPOSED_HEADERS}. Any other origin, and every other path, gets no CORS headers.
 * Call after {@link installHttpHooks}, so that preflights carry `x-request-id` and the
 * security headers too.
 */
export function installCors(
  instance: FastifyInstance,
  origins: '*' | readonly string[],
): void {
  const allowed = (origin: string) =>
    origins === '*' || origins.includes(origin);
  const optionsFor = (request: FastifyRequest): FastifyCorsOptions => {
    const origin = request.headers.origin;
    if (origin === undefined || !isApi(request.url) || !allowed(origin))
      return DENIED;
    return {
      origin: origins === '*' ? '*' : origin,
      methods: ['GET', 'POST', 'DELETE'],
      // No allowedHeaders: the headers a preflight asks for are allowed, as they are reflected.
      exposedHeaders: [...CORS_EXPOSED_HEADERS],
      maxAge: CORS_MAX_AGE_SECONDS,
      // A bare OPTIONS from an allowed origin is answered like a preflight, not with a
      // plain-text 400 outside OpenAI's error shape.
      strictPreflight: false,
    };
  };
  void instance.register(fastifyCors, {
    hook: 'onRequest',
    delegator: (request, callback) => callback(null, optionsFor(request)),
  });
}
