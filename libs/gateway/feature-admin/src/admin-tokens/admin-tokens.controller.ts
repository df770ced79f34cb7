import { Body, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  type AdminToken,
  AdminTokenRepository,
} from '@marquee/gateway/data-access-db';
import {
  ADMIN_SCOPES,
  mintAdminToken,
  RequireAdmin,
} from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { name } from '../http/fields';
import { iso, list } from '../http/present';
import { idOf } from '../http/uuid-param';

const createToken = z.strictObject({
  name,
  scopes: z
    .array(
      z.enum(ADMIN_SCOPES, {
        error: `each must be one of ${ADMIN_SCOPES.join(', ')}`,
      }),
    )
    .min(1, 'grant at least one scope')
    .transform((s) => [...new Set(s)]),
});

const presentToken = (t: AdminToken) => ({
  id: t.id,
  object: 'admin_token' as const,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  revoked: t.revokedAt !== null,
  revoked_at: iso(t.revokedAt),
  created_at: iso(t.createdAt),
});

/** Scoped admin tokens (`mqa_...`). Only the bootstrap token (MARQUEE_ADMIN_TOKEN) manages them. */
@AdminController('admin tokens')
export class AdminTokensController {
  constructor(private readonly tokens: AdminTokenRepository) {}

  @Post('admin-tokens')
  @RequireAdmin('bootstrap')
  @Audited('admin_token.create', 'admin_token')
  @ApiRoute({
    summary: 'Create a scoped admin token',
    description: `Scopes: ${ADMIN_SCOPES.join(', ')}. The response holds the secret (\`token\`), shown this once.`,
    body: createToken,
  })
  async create(@Body() body: unknown) {
    const input = parseInput(createToken, body);
    const minted = mintAdminToken();
    const token = await this.tokens.create({
      name: input.name,
      scopes: input.scopes,
      prefix: minted.prefix,
      hash: minted.hash,
    });
    return { ...presentToken(token), token: minted.token };
  }

  @Get('admin-tokens')
  @RequireAdmin('bootstrap')
  @ApiRoute({ summary: 'List admin tokens (prefixes only)' })
  async list() {
    return list((await this.tokens.list()).map(presentToken));
  }

  @Delete('admin-tokens/:id')
  @HttpCode(200)
  @RequireAdmin('bootstrap')
  @Audited('admin_token.revoke', 'admin_token')
  @ApiRoute({ summary: 'Revoke an admin token' })
  async revoke(@Param('id', idOf('Admin token')) id: string) {
    if (!(await this.tokens.revoke(id))) throw ApiError.notFound('Admin token');
    return { id, object: 'admin_token' as const, revoked: true };
  }
}
