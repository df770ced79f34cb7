import { isRequestFailureCode } from '@marquee/contracts/proto';
import type { RequestEvent } from '@marquee/gateway/transport-grpc';
import { ApiError } from '@marquee/gateway/util-http';

/** The client-facing error for a request that failed in the queue or on a worker. */
export function failureToApiError(
  event: Extract<RequestEvent, { type: 'failed' }>,
  requestId: string,
): ApiError {
  const code = event.code;
  if (!isRequestFailureCode(code)) return ApiError.internal(requestId);
  switch (code) {
    case 'context_length_exceeded':
      return ApiError.invalidRequest(
        event.message,
        event.param,
        'context_length_exceeded',
      );
    case 'invalid_prompt':
      return ApiError.invalidRequest(
        event.message,
        event.param,
        'invalid_prompt',
      );
    case 'cancelled':
      return new ApiError(
        499,
        'invalid_request_error',
        'The request was cancelled.',
        'cancelled',
      );
    case 'no_worker_available':
      return ApiError.unavailable(
        'No worker is available for this model right now; try again shortly.',
        code,
      );
    case 'queue_unavailable':
      return ApiError.unavailable(
        'The request queue is unavailable; try again shortly.',
        code,
      );
    case 'worker_lost':
      return ApiError.unavailable(
        'The worker running this request stopped; try again.',
        code,
      );
    case 'model_error':
      return ApiError.internal(requestId);
  }
}
