import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AdminTokenRepository } from '@marquee/gateway/data-access-db';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError } from '@marquee/gateway/util-http';
import type { FastifyRequest } from 'fastify';
import {
  ADMIN_ACCESS_METADATA,
  ADMIN_SCOPES,
  type AdminAccess,
  type AdminPrincipal,
  type AdminRequestState,
  type AdminScope,
} from './admin-access';
import { ADMIN_TOKEN_PREFIX } from './admin-token-secret';
import { API_KEY_PREFIX, bearerToken, hashApiKey } from './api-key-secret';

const digest = (value: string) =>
  createHash('sha256').update(value, 'utf8').digest();

const isScope = (s: string): s is AdminScope =>
  (ADMIN_SCOPES as readonly string[]).includes(s);

const forbidden = (message: string, code: string) =>
  new ApiError(403, 'permission_error', message, code);

/**
 * Admin routes: MARQUEE_ADMIN_TOKEN (every scope, actor `bootstrap`) or a live `mqa_` admin token
 * holding one of the scopes the route declares with {@link RequireAdmin}. Missing or unknown
 * tokens get 401; tenant keys and too-narrow tokens get 403 `permission_error`.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly bootstrap: Buffer;

  constructor(
    config: GatewayConfig,
    private readonly tokens: AdminTokenRepository,
    private readonly reflector: Reflector,
  ) {
    this.bootstrap = digest(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest & AdminRequestState>();
    const admin = await this.authenticate(
      bearerToken(request.headers.authorization),
    );
    const access = this.reflector.getAllAndOverride<AdminAccess[] | undefined>(
      ADMIN_ACCESS_METADATA,
      [context.getHandler(), context.getClass()],
    );
    if (!access?.length)
      throw forbidden(
        'This admin route declares no access.',
        'insufficient_scope',
      );
    const allowed = access.some((need) =>
      need === 'bootstrap' ? admin.bootstrap : admin.scopes.includes(need),
    );
    if (!allowed) {
      throw forbidden(
        `This admin token lacks the required scope (${access.join(' or ')}).`,
        'insufficient_scope',
      );
    }
    request.admin = admin;
    return true;
  }

  /** Who `token` is, or 401 (403 for a tenant key): the guard's check, without a route's scopes. */
  async authenticate(token: string | null): Promise<AdminPrincipal> {
    if (!token) throw ApiError.invalidAdminToken();
    if (timingSafeEqual(digest(token), this.bootstrap))
      return { actor: 'bootstrap', scopes: ADMIN_SCOPES, bootstrap: true };
    if (token.startsWith(ADMIN_TOKEN_PREFIX)) {
      const found = await this.tokens.findActiveByHash(hashApiKey(token));
      if (!found) throw ApiError.invalidAdminToken();
      return {
        actor: found.id,
        scopes: found.scopes.filter(isScope),
        bootstrap: false,
      };
    }
    if (token.startsWith(API_KEY_PREFIX))
      throw forbidden(
        'Tenant API keys cannot use the admin API.',
        'admin_only',
      );
    throw ApiError.invalidAdminToken();
  }
}
