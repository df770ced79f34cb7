import { Injectable } from '@nestjs/common';
import { ApiError } from '@marquee/gateway/util-http';
import type { FastifyRequest } from 'fastify';
import { AdminTokenGuard } from './admin-token.guard';
import { API_KEY_PREFIX, bearerToken, hashApiKey } from './api-key-secret';
import { PrincipalCache } from './principal-cache.service';

/**
 * Whether a request's credential is still accepted, outside Nest's guards (which run only for a
 * route's handler): for work done before them, such as replaying a stored idempotent response,
 * which a key revoked since must not get.
 */
@Injectable()
export class CredentialCheck {
  constructor(
    private readonly principals: PrincipalCache,
    private readonly admins: AdminTokenGuard,
  ) {}

  /** @throws ApiError 401 when the credential is missing, unknown, revoked or expired. */
  async verify(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (request.url.startsWith('/admin/')) {
      await this.admins.authenticate(token);
      return;
    }
    if (!token) throw ApiError.missingApiKey();
    if (
      !token.startsWith(API_KEY_PREFIX) ||
      !(await this.principals.resolve(hashApiKey(token)))
    )
      throw ApiError.invalidApiKey();
  }
}
