import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { API_RESPONSE_HEADERS } from './security-headers';

/**
 * What a request Node's HTTP parser refused gets (before Fastify or Nest see it): a header block
 * over the limit is 431, a slow client 408, anything else malformed (a CR or NUL in a header, a
 * bad method or URL) 400.
 */
export function clientErrorToApiError(code: string | undefined): ApiError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        431,
        'invalid_request_error',
        'The request headers are too large.',
        'headers_too_large',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new ApiError(
        408,
        'invalid_request_error',
        'The request took too long to arrive.',
        'request_timeout',
      );
    default:
      return new ApiError(
        400,
        'invalid_request_error',
        'The HTTP request is malformed (check its request line and headers).',
        'malformed_request',
      );
  }
}

/** A whole HTTP/1.1 response carrying `error`'s body, for writing straight to a socket. */
export function rawErrorResponse(error: ApiError): string {
  const body = JSON.stringify(error.toBody());
  const headers: Record<string, string> = {
    ...API_RESPONSE_HEADERS,
    ...error.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${head}\r\n\r\n${body}`;
}

/**
 * Fastify's `clientErrorHandler`: answers what Node's parser refused in OpenAI's shape instead of
 * Fastify's own body. The socket is ended, not destroyed, so a client still sending the rest of
 * an oversized header reads the answer instead of a reset; it is destroyed if it lingers.
 */
export function clientErrorHandler(
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(clientErrorToApiError(error.code)));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Fastify's `frameworkErrors`: errors it raises while routing, before any hook runs (a URL whose
 * percent-encoding does not decode, an over-long path parameter), in OpenAI's shape.
 */
export function frameworkErrors(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const error_ =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError(
          414,
          'invalid_request_error',
          'A path parameter is too long.',
          'uri_too_long',
        )
      : new ApiError(
          400,
          'invalid_request_error',
          'The request URL is malformed.',
          'invalid_url',
        );
  void reply
    .status(error_.status)
    .headers({ ...API_RESPONSE_HEADERS, 'x-request-id': request.id })
    .header('content-type', 'application/json; charset=utf-8')
    .send(error_.toBody());
}
