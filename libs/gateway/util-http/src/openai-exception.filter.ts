import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { unavailableDependency } from './dependency-failure';
import { REQUEST_LIMITS } from './request-limits';

/** Fastify's errors for bodies it could not read: status, message, code. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [
    400,
    'We could not parse the JSON body of your request.',
    'invalid_json',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [
    400,
    'The request body is empty; send a JSON object.',
    'invalid_json',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'Unsupported Content-Type; send application/json.',
    'unsupported_media_type',
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [
    413,
    `The request body is too large (at most ${REQUEST_LIMITS.bodyBytes} bytes).`,
    'request_too_large',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    'The Content-Length header does not match the body.',
    'invalid_content_length',
  ],
};

/**
 * Turns every error into OpenAI's error body with the right status. Unknown errors become a
 * 500 whose body names only the request id; the details go to the log, never to the client.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const error = toApiError(exception, request);
    if (!(exception instanceof ApiError) && error.status === 503) {
      // PostgreSQL or Redis out of reach: one line, no stack; the client is told to retry.
      this.logger.warn(
        {
          requestId: request.id,
          code: error.code,
          err:
            exception instanceof Error ? exception.message : String(exception),
        },
        'dependency unavailable',
      );
    } else if (error.status >= 500) {
      this.logger.error(
        {
          requestId: request.id,
          err: exception instanceof Error ? exception.stack : String(exception),
        },
        'request failed',
      );
    }
    if (reply.sent || reply.raw.headersSent) {
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    void reply
      .status(error.status)
      .headers(error.headers)
      .header('content-type', 'application/json; charset=utf-8')
      .send(error.toBody());
  }
}

/** Maps anything thrown while serving a request to the error the client sees. */
export function toApiError(
  exception: unknown,
  request: FastifyRequest,
): ApiError {
  if (exception instanceof ApiError) return exception;
  // Nest wraps Fastify's own 4xx errors in an HttpException whose cause carries Fastify's code.
  const fastifyError =
    exception instanceof HttpException ? exception.cause : exception;
  const code = (fastifyError as { code?: unknown })?.code;
  const bodyError =
    typeof code === 'string' && code in BODY_ERRORS
      ? BODY_ERRORS[code]
      : fastifyError instanceof SyntaxError
        ? BODY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY
        : null;
  if (bodyError) {
    const [status, message, errorCode] = bodyError;
    return new ApiError(status, 'invalid_request_error', message, errorCode);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404)
      return ApiError.unknownUrl(request.method, request.url.split('?')[0]);
    if (status < 500)
      return new ApiError(
        status,
        'invalid_request_error',
        fastifyError ? 'The request could not be read.' : exception.message,
      );
  }
  const statusCode = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new ApiError(
      statusCode,
      'invalid_request_error',
      'The request could not be read.',
    );
  }
  const dependency = unavailableDependency(exception);
  switch (dependency) {
    case 'database':
      return ApiError.databaseUnavailable();
    case 'redis':
      return ApiError.redisUnavailable();
    case 'network':
      return ApiError.unavailable(
        'A service this request needs is unavailable; try again shortly.',
      );
    case null:
      return ApiError.internal(request.id);
  }
}
