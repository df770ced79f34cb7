import type { FastifyInstance } from 'fastify';

/** Headers on every response: no MIME sniffing, no framing, no referrer leaks. */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Every API response (never the docs' static assets): also never stored by a cache. */
export const API_RESPONSE_HEADERS: Record<string, string> = {
  ...SECURITY_HEADERS,
  'cache-control': 'no-store',
};

/**
 * Swagger UI at `/docs` loads its scripts from `/docs` and uses inline styles and data: images;
 * nothing else runs there, and nothing may frame it.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const isDocs = (url: string) => url === '/docs' || url.startsWith('/docs/');

/** Sets the security headers on every response, and the docs' CSP on `/docs`. */
export function installSecurityHeaders(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, reply, done) => {
    if (isDocs(request.url)) {
      void reply
        .headers(SECURITY_HEADERS)
        .header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY);
    } else {
      void reply.headers(API_RESPONSE_HEADERS);
    }
    done();
  });
}
