import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import type { Observable } from 'rxjs';
import { requestContext } from './http-drain';

/**
 * Adds the tenant (known once the key guard ran) and the model (from the body) to every log
 * line of the request, the final "request completed" line included.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  constructor(private readonly logger: PinoLogger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const fields = requestContext(
      context.switchToHttp().getRequest<FastifyRequest>(),
    );
    if (Object.keys(fields).length > 0) {
      try {
        this.logger.assign(fields);
      } catch {
        // Outside a request's logging context (no HTTP middleware ran): nothing to add to.
      }
    }
    return next.handle();
  }
}
