import type { FastifyInstance } from 'fastify';

/**
 * Fastify-level hooks: every response carries `x-request-id`. (Errors Fastify raises before
 * Nest's pipeline — unreadable JSON, wrong content type, oversized body — reach the global
 * OpenAiExceptionFilter through Nest's own Fastify error handler.)
 */
export function installRequestIdHeader(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
}
