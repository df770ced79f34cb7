import type { FastifyInstance } from 'fastify';
import { toApiError } from './openai-exception.filter';

/**
 * Fastify-level hooks: every response carries `x-request-id`, and errors raised before Nest's
 * pipeline (unreadable JSON, wrong content type, oversized body) get OpenAI's error shape too.
 */
export function installFastifyErrorHandler(instance: FastifyInstance): void {
  instance.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  instance.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error, request);
    void reply.status(apiError.status).headers(apiError.headers).send(apiError.toBody());
  });
}
