import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
} from '@nestjs/common';
import { ApiError, type MarqueeRequestState } from '@marquee/gateway/util-http';
import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX, bearerToken, hashApiKey } from './api-key-secret';
import { PrincipalCache } from './principal-cache.service';

/** Lets a request through only with a live tenant key; sets `request.principal`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly principals: PrincipalCache) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest & MarqueeRequestState>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw ApiError.missingApiKey();
    if (!token.startsWith(API_KEY_PREFIX)) throw ApiError.invalidApiKey();
    const principal = await this.principals.resolve(hashApiKey(token));
    if (!principal) throw ApiError.invalidApiKey();
    request.principal = principal;
    return true;
  }
}
