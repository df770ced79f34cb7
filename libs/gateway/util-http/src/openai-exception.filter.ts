import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

/** Fastify error codes for bodies it could not read as JSON. */
const BODY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY:
    'We could not parse the JSON body of your request.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send a JSON object.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'Unsupported Content-Type; send application/json.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH:
    'The Content-Length header does not match the body.',
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
    if (error.status >= 500) {
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
      .header('content-type', 'application/json')
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
  if (typeof code === 'string' && code in BODY_ERRORS) {
    const status =
      code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 415
        : code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 413
          : 400;
    return new ApiError(
      status,
      'invalid_request_error',
      BODY_ERRORS[code],
      null,
      null,
    );
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404)
      return ApiError.unknownUrl(request.method, request.url.split('?')[0]);
    if (status < 500)
      return new ApiError(status, 'invalid_request_error', exception.message);
  }
  const statusCode = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new ApiError(
      statusCode,
      'invalid_request_error',
      'The request could not be read.',
    );
  }
  return ApiError.internal(request.id);
}
