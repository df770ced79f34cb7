import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { type Observable, mergeMap } from 'rxjs';
import { PrincipalCache } from './principal-cache.service';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * After any successful admin write (keys, tenants, plans...), broadcasts that authorization data
 * changed, before the response goes out: when the admin sees "revoked", every replica has been told.
 */
@Injectable()
export class AuthzChangeInterceptor implements NestInterceptor {
  constructor(private readonly cache: PrincipalCache) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const adminWrite =
      request.url.startsWith('/admin/') && !READS.has(request.method);
    if (!adminWrite) return next.handle();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        await this.cache.broadcastChange();
        return body;
      }),
    );
  }
}
