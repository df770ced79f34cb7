import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { clientErrorHandler, frameworkErrors } from './client-errors';
import { REQUEST_LIMITS } from './request-limits';
import { installSecurityHeaders } from './security-headers';
import { installTextGuard } from './text-guard';

/**
 * The gateway's Fastify options: request ids, the body limit, and OpenAI-shaped answers to what
 * Node's parser and Fastify's router refuse before any hook runs. Fastify's own logger stays off:
 * nestjs-pino logs each request once.
 */
export function gatewayFastifyOptions(): FastifyServerOptions {
  return {
    genReqId: () => `req_${randomUUID().replace(/-/g, '')}`,
    requestIdHeader: false,
    bodyLimit: REQUEST_LIMITS.bodyBytes,
    logger: false,
    clientErrorHandler,
    frameworkErrors,
  };
}

/** Every response carries `x-request-id`. */
export function installRequestIdHeader(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
}

/**
 * The gateway's Fastify hooks, for every route: `x-request-id` and the security headers on every
 * response, and the NUL and lone-surrogate check of bodies, query strings and path parameters.
 * (Errors Fastify raises before Nest's pipeline — unreadable JSON, wrong content type, oversized
 * body — reach the global OpenAiExceptionFilter through Nest's own Fastify error handler.)
 * Call before the app registers its routes (`init`/`listen`).
 */
export function installHttpHooks(instance: FastifyInstance): void {
  installRequestIdHeader(instance);
  installSecurityHeaders(instance);
  installTextGuard(instance);
}
