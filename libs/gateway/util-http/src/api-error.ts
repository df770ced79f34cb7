/** OpenAI's error `type` values that Marquee uses. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'requests'
  | 'tokens'
  | 'insufficient_quota'
  | 'server_error';

/** The wire body of every error response, exactly OpenAI's shape. */
export interface ApiErrorBody {
  error: {
    message: string;
    type: ApiErrorType;
    param: string | null;
    code: string | null;
  };
}

/**
 * An error meant for the client: carries the HTTP status and OpenAI's error fields. Messages
 * are written for the client and never contain secrets or internals.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Extra response headers (retry-after, rate-limit state). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static invalidRequest(
    message: string,
    param: string | null = null,
    code: string | null = null,
  ): ApiError {
    return new ApiError(400, 'invalid_request_error', message, code, param);
  }

  /** 429: a rate limit (`rate_limit_exceeded`) or the budget (`insufficient_quota`). */
  static rateLimited(
    message: string,
    code: 'rate_limit_exceeded' | 'insufficient_quota',
    headers: Record<string, string>,
  ): ApiError {
    const type: ApiErrorType =
      code === 'insufficient_quota'
        ? 'insufficient_quota'
        : message.includes('tokens')
          ? 'tokens'
          : 'requests';
    return new ApiError(429, type, message, code, null, headers);
  }

  static invalidApiKey(): ApiError {
    return new ApiError(
      401,
      'invalid_request_error',
      'Incorrect API key provided. Pass a valid Marquee key as "Authorization: Bearer mq_...".',
      'invalid_api_key',
    );
  }

  static missingApiKey(): ApiError {
    return new ApiError(
      401,
      'invalid_request_error',
      'You didn\'t provide an API key. Pass it as "Authorization: Bearer mq_...".',
      'invalid_api_key',
    );
  }

  static invalidAdminToken(): ApiError {
    return new ApiError(
      401,
      'authentication_error',
      'A valid admin token is required.',
      'invalid_admin_token',
    );
  }

  static modelNotFound(model: string): ApiError {
    return new ApiError(
      404,
      'invalid_request_error',
      `The model \`${model}\` does not exist or you do not have access to it.`,
      'model_not_found',
      'model',
    );
  }

  /**
   * 400 on `param: model`: the model exists (for this key) but does another task than the
   * endpoint's. `endpoint` is the path called (`/v1/chat/completions`), or null where the
   * request only needs a text-generation model (a cost preview).
   */
  static wrongModelTask(
    model: string,
    task: 'text_generation' | 'embedding',
    endpoint: string | null,
  ): ApiError {
    const [kind, instead] =
      task === 'embedding'
        ? ['an embedding model', '/v1/embeddings']
        : [
            'a text-generation model',
            '/v1/chat/completions, /v1/completions or /v1/responses',
          ];
    const where = endpoint ? `with ${endpoint}` : 'to generate text';
    return new ApiError(
      400,
      'invalid_request_error',
      `The model \`${model}\` is ${kind} and cannot be used ${where}; use ${instead}.`,
      'model_task_mismatch',
      'model',
    );
  }

  static notFound(what: string): ApiError {
    return new ApiError(
      404,
      'invalid_request_error',
      `${what} not found.`,
      'not_found',
    );
  }

  static unknownUrl(method: string, url: string): ApiError {
    return new ApiError(
      404,
      'invalid_request_error',
      `Unknown request URL: ${method} ${url}.`,
      'unknown_url',
    );
  }

  /** 503 with `retry-after` (seconds): the request may succeed if sent again shortly. */
  static unavailable(
    message: string,
    code = 'service_unavailable',
    retryAfterSeconds = 1,
  ): ApiError {
    return new ApiError(503, 'server_error', message, code, null, {
      'retry-after': String(retryAfterSeconds),
    });
  }

  /** 503 `database_unavailable`: PostgreSQL could not be reached or dropped the connection. */
  static databaseUnavailable(): ApiError {
    return ApiError.unavailable(
      'The database is unavailable; try again shortly.',
      'database_unavailable',
    );
  }

  /** 503 `redis_unavailable`: Redis (queues, quotas) could not be reached in time. */
  static redisUnavailable(): ApiError {
    return ApiError.unavailable(
      'The queue store is unavailable; try again shortly.',
      'redis_unavailable',
    );
  }

  static internal(requestId?: string): ApiError {
    const ref = requestId ? ` (request id ${requestId})` : '';
    return new ApiError(
      500,
      'server_error',
      `The server had an error processing your request${ref}.`,
      'server_error',
    );
  }

  toBody(): ApiErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code,
      },
    };
  }
}
