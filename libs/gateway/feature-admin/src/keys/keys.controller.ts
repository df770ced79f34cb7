import { Body, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiKeyRepository,
  ModelRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { mintApiKey, RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { name, positiveInt } from '../http/fields';
import { iso, list } from '../http/present';
import { idOf } from '../http/uuid-param';
import { presentApiKey } from './api-key.presenter';
import { KeyActivityQuery } from './key-activity.query';

/** How long a replaced secret keeps working by default: one day. */
const DEFAULT_GRACE_SECONDS = 86_400;
const MAX_GRACE_SECONDS = 30 * 86_400;

const createKey = z.strictObject({
  name,
  allowed_models: z
    .array(z.string().min(1, 'must not be empty').max(200))
    .max(100, 'at most 100 models')
    .default([]),
  expires_at: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time' })
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() > Date.now(), 'must be in the future')
    .nullish(),
  /** The key's own limits, below its tenant's plan (the lower of the two applies). */
  requests_per_minute: positiveInt.nullish(),
  tokens_per_minute: positiveInt.nullish(),
});
const rotateKey = z.strictObject({
  grace_period_seconds: z
    .number()
    .int('must be an integer')
    .min(0, 'must not be negative')
    .max(MAX_GRACE_SECONDS, `at most ${MAX_GRACE_SECONDS}`)
    .default(DEFAULT_GRACE_SECONDS),
});

/** Tenant API keys. Secrets appear in exactly two responses: creation and rotation. */
@AdminController('keys')
export class KeysController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly keys: ApiKeyRepository,
    private readonly models: ModelRepository,
    private readonly activity: KeyActivityQuery,
  ) {}

  @Post('tenants/:id/keys')
  @RequireAdmin('admin:write')
  @Audited('api_key.create', 'api_key')
  @ApiRoute({
    summary: 'Create a key for a tenant',
    description:
      'The response holds the secret (`key`); it is shown this once. Only its SHA-256 is stored.',
    body: createKey,
  })
  async create(
    @Param('id', idOf('Tenant')) tenantId: string,
    @Body() body: unknown,
  ) {
    const input = parseInput(createKey, body);
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    for (const model of input.allowed_models) {
      if (!(await this.models.findVisibleByName(model, tenantId)))
        throw ApiError.invalidRequest(
          `The model '${model}' does not exist or is not available to this tenant.`,
          'allowed_models',
          'model_not_found',
        );
    }
    const minted = mintApiKey();
    const created = await this.keys.create({
      tenantId,
      name: input.name,
      prefix: minted.prefix,
      hash: minted.hash,
      allowedModels: [...new Set(input.allowed_models)],
      expiresAt: input.expires_at ?? null,
      requestsPerMinute: input.requests_per_minute ?? null,
      tokensPerMinute: input.tokens_per_minute ?? null,
    });
    const key = await this.keys.findById(created.id);
    if (!key) throw ApiError.notFound('API key');
    return { ...presentApiKey(key), key: minted.key };
  }

  @Get('tenants/:id/keys')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: "List a tenant's keys (prefixes only)" })
  async list(@Param('id', idOf('Tenant')) tenantId: string) {
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    return list((await this.keys.listByTenant(tenantId)).map(presentApiKey));
  }

  @Get('tenants/:id/key-activity')
  @RequireAdmin('admin:read')
  @ApiRoute({
    summary:
      "Requests billed to each of a tenant's keys, and when the latest ended",
    description:
      'From the usage ledger (finished requests). Keys that never completed a request are absent.',
  })
  async keyActivity(@Param('id', idOf('Tenant')) tenantId: string) {
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    return list(
      (await this.activity.forTenant(tenantId)).map((a) => ({
        object: 'api_key.activity' as const,
        api_key_id: a.apiKeyId,
        requests: a.requests,
        last_request_at: iso(a.lastRequestAt),
      })),
    );
  }

  @Get('keys/:id')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'Get a key (prefix only)' })
  async get(@Param('id', idOf('API key')) id: string) {
    const key = await this.keys.findById(id);
    if (!key) throw ApiError.notFound('API key');
    return presentApiKey(key);
  }

  @Delete('keys/:id')
  @HttpCode(200)
  @RequireAdmin('admin:write')
  @Audited('api_key.revoke', 'api_key')
  @ApiRoute({
    summary: 'Revoke a key',
    description:
      'Takes effect on every gateway replica within a second. Revoking twice is a no-op.',
  })
  async revoke(@Param('id', idOf('API key')) id: string) {
    if (!(await this.keys.revoke(id))) throw ApiError.notFound('API key');
    const key = await this.keys.findById(id);
    if (!key) throw ApiError.notFound('API key');
    return presentApiKey(key);
  }

  @Post('keys/:id/rotate')
  @HttpCode(200)
  @RequireAdmin('admin:write')
  @Audited('api_key.rotate', 'api_key')
  @ApiRoute({
    summary: 'Rotate a key: a new secret for the same key id',
    description:
      'The response holds the new secret (`key`), shown this once. The replaced secret keeps working for `grace_period_seconds` (default 86400; 0 ends it at once); a secret replaced by an earlier rotation stops at once.',
    body: rotateKey,
  })
  async rotate(
    @Param('id', idOf('API key')) id: string,
    @Body() body: unknown,
  ) {
    const { grace_period_seconds } = parseInput(rotateKey, body);
    const minted = mintApiKey();
    const result = await this.keys.rotate(
      id,
      { prefix: minted.prefix, hash: minted.hash },
      grace_period_seconds * 1000,
    );
    switch (result.status) {
      case 'rotated':
        return { ...presentApiKey(result.key), key: minted.key };
      case 'not_found':
        throw ApiError.notFound('API key');
      case 'revoked':
        throw new ApiError(
          409,
          'invalid_request_error',
          'A revoked key cannot be rotated.',
          'key_revoked',
        );
      case 'conflict':
        throw new ApiError(
          409,
          'invalid_request_error',
          'The key was rotated concurrently; retry.',
          'conflict',
        );
    }
  }
}
