import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { MarqueeRequestState } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';
import { type Observable, mergeMap } from 'rxjs';
import { AdmissionService } from './admission.service';

/**
 * Gives every tenant-key response the caller's `x-ratelimit-*` headers. Responses that went
 * through admission already carry the post-admission state and are left alone; streams whose
 * headers went out are too.
 */
@Injectable()
export class RateLimitHeadersInterceptor implements NestInterceptor {
  constructor(
    private readonly admission: AdmissionService,
    private readonly metrics: GatewayMetrics,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<MarqueeRequestState>();
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        const principal = request.principal;
        if (
          !principal ||
          reply.raw.headersSent ||
          reply.getHeader('x-ratelimit-limit-requests')
        )
          return body;
        const headers = await this.admission
          .peek(principal.tenantId, principal.apiKeyId, principal)
          // Headers are a courtesy: the answer goes without them.
          .catch(
            this.metrics.failures.fallback('rate_limit_headers.read', null),
          );
        if (headers && !reply.raw.headersSent) void reply.headers(headers);
        return body;
      }),
    );
  }
}
