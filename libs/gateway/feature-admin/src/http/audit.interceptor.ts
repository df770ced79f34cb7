import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLogRepository } from '@marquee/gateway/data-access-db';
import type { AdminRequestState } from '@marquee/gateway/feature-auth';
import type { FastifyRequest } from 'fastify';
import { mergeMap, type Observable } from 'rxjs';
import { AUDIT_METADATA, type AuditSpec } from './audited';
import { redactSecrets } from './redact-secrets';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Appends an audit-log row for every successful admin write, before the response is sent: the
 * actor, the action (from {@link Audited}, else method and route), the target (the response's
 * `id`, else the path's), and the request's params and body with secrets removed.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditLogRepository,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest & AdminRequestState>();
    if (READS.has(request.method)) return next.handle();
    const spec = this.reflector.get<AuditSpec | undefined>(
      AUDIT_METADATA,
      context.getHandler(),
    ) ?? {
      action: `${request.method} ${request.routeOptions.url ?? request.url}`,
      targetType: 'unknown',
    };
    const params = (request.params ?? {}) as Record<string, string>;
    return next.handle().pipe(
      mergeMap(async (response: unknown) => {
        const responseId = (response as { id?: unknown } | null)?.id;
        await this.audit.append({
          actor: request.admin?.actor ?? 'unknown',
          action: spec.action,
          targetType: spec.targetType,
          targetId:
            typeof responseId === 'string' ? responseId : (params.id ?? null),
          details: redactSecrets({ params, body: request.body ?? null }),
        });
        return response;
      }),
    );
  }
}
