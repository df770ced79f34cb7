import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
} from '@nestjs/common';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError } from '@marquee/gateway/util-http';
import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX, bearerToken } from './api-key-secret';

const digest = (value: string) =>
  createHash('sha256').update(value, 'utf8').digest();

/** Admin routes: the bearer token must equal MARQUEE_ADMIN_TOKEN. Tenant keys get 403. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: GatewayConfig) {
    this.expected = digest(config.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token && timingSafeEqual(digest(token), this.expected)) return true;
    if (token?.startsWith(API_KEY_PREFIX)) {
      throw new ApiError(
        403,
        'permission_error',
        'Tenant API keys cannot use the admin API.',
        'admin_only',
      );
    }
    throw ApiError.invalidAdminToken();
  }
}
