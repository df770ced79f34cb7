import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
} from '@nestjs/common';
import { RepositoryError } from '@marquee/gateway/data-access-db';
import { ApiError } from '@marquee/gateway/util-http';
import type { FastifyReply } from 'fastify';

/** Maps a refused write to 409 in OpenAI's error shape. */
export function repositoryErrorToApiError(error: RepositoryError): ApiError {
  switch (error.code) {
    case 'duplicate':
      return new ApiError(
        409,
        'invalid_request_error',
        error.message,
        'conflict',
      );
    case 'in_use':
      return new ApiError(
        409,
        'invalid_request_error',
        error.message,
        'in_use',
      );
  }
}

@Catch(RepositoryError)
export class RepositoryErrorFilter implements ExceptionFilter {
  catch(exception: RepositoryError, host: ArgumentsHost): void {
    const error = repositoryErrorToApiError(exception);
    void host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .status(error.status)
      .send(error.toBody());
  }
}
