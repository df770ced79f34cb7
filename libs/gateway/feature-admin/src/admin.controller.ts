import {
  Body,
  Controller,
  Delete,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiKeyRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { AdminTokenGuard, mintApiKey } from '@marquee/gateway/feature-auth';
import { ApiError } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { parseAdminBody } from './parse-admin-body';

const nameBody = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'at most 200 characters'),
});
const uuid = new ParseUUIDPipe({
  exceptionFactory: () => ApiError.notFound('Resource'),
});

/** The minimal admin API: tenants and their keys. Guarded by MARQUEE_ADMIN_TOKEN. */
@Controller('admin/v1')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly keys: ApiKeyRepository,
  ) {}

  @Post('tenants')
  async createTenant(@Body() body: unknown) {
    const { name } = parseAdminBody(nameBody, body);
    const tenant = await this.tenants.create(name);
    return {
      id: tenant.id,
      object: 'tenant',
      name: tenant.name,
      status: tenant.status,
      created_at: tenant.createdAt.toISOString(),
    };
  }

  /** Creates a key. The response is the only place the secret ever appears. */
  @Post('tenants/:id/keys')
  async createKey(@Param('id', uuid) tenantId: string, @Body() body: unknown) {
    const { name } = parseAdminBody(nameBody, body);
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    const minted = mintApiKey();
    const key = await this.keys.create({
      tenantId,
      name,
      prefix: minted.prefix,
      hash: minted.hash,
    });
    return {
      id: key.id,
      object: 'api_key',
      name: key.name,
      tenant_id: tenantId,
      prefix: key.prefix,
      key: minted.key,
    };
  }

  @Delete('keys/:id')
  @HttpCode(200)
  async revokeKey(@Param('id', uuid) id: string) {
    if (!(await this.keys.revoke(id))) throw ApiError.notFound('API key');
    return { id, object: 'api_key', revoked: true };
  }
}
