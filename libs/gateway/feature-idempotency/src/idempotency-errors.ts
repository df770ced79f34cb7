import { ApiError } from '@marquee/gateway/util-http';
import { IDEMPOTENCY_HEADER } from './idempotency-key';

/** 400: the header is not a usable key (too long, empty, control characters). */
export function invalidIdempotencyKey(problem: string): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    problem,
    'invalid_idempotency_key',
    IDEMPOTENCY_HEADER,
  );
}

/** 409: the first request with this key is still running; retry once it has finished. */
export function idempotencyKeyInUse(retryAfterSeconds: number): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    `A request with this ${IDEMPOTENCY_HEADER} is still in progress; retry after it completes to receive its response.`,
    'idempotency_key_in_use',
    null,
    { 'retry-after': String(retryAfterSeconds) },
  );
}

/** 422: the key was first used for a different request (body, method or URL). */
export function idempotencyKeyReused(): ApiError {
  return new ApiError(
    422,
    'invalid_request_error',
    `This ${IDEMPOTENCY_HEADER} was already used with a different request body (or endpoint); use a new key for a new request.`,
    'idempotency_key_reused',
    null,
  );
}

/** 503: Redis, which holds the keys, did not answer; the request did not run. */
export function idempotencyUnavailable(): ApiError {
  return new ApiError(
    503,
    'server_error',
    `The store behind ${IDEMPOTENCY_HEADER} is unavailable, so the request was not run; try again shortly.`,
    'redis_unavailable',
    null,
    { 'retry-after': '1' },
  );
}
