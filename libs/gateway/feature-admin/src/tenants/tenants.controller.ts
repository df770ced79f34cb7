import { Body, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  PlanRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { limit, name, uuid } from '../http/fields';
import { list } from '../http/present';
import { idOf } from '../http/uuid-param';
import { presentTenant } from './tenant.presenter';

const createTenant = z.strictObject({ name, plan_id: uuid.nullish() });
const updateTenant = z
  .strictObject({ name: name.optional(), plan_id: uuid.nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, 'send name or plan_id');
const listTenants = z.strictObject({
  limit: limit(500, 100),
  after: uuid.optional(),
});

/** Tenants: create, list, read, rename or move to another plan, suspend and reactivate. */
@AdminController('tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly plans: PlanRepository,
  ) {}

  @Post('tenants')
  @RequireAdmin('admin:write')
  @Audited('tenant.create', 'tenant')
  @ApiRoute({ summary: 'Create a tenant', body: createTenant })
  async create(@Body() body: unknown) {
    const input = parseInput(createTenant, body);
    const planId = await this.planId(input.plan_id);
    return presentTenant(await this.tenants.create(input.name, planId ?? null));
  }

  @Get('tenants')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'List tenants, oldest first', query: listTenants })
  async list(@Query() query: unknown) {
    const { limit: take, after } = parseInput(listTenants, query);
    return list((await this.tenants.list(take, after)).map(presentTenant));
  }

  @Get('tenants/:id')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'Get a tenant' })
  async get(@Param('id', idOf('Tenant')) id: string) {
    const tenant = await this.tenants.findById(id);
    if (!tenant) throw ApiError.notFound('Tenant');
    return presentTenant(tenant);
  }

  @Patch('tenants/:id')
  @RequireAdmin('admin:write')
  @Audited('tenant.update', 'tenant')
  @ApiRoute({
    summary: 'Rename a tenant or change its plan',
    description:
      '`plan_id: null` takes the tenant off its plan (default limits).',
    body: updateTenant,
  })
  async update(@Param('id', idOf('Tenant')) id: string, @Body() body: unknown) {
    const input = parseInput(updateTenant, body);
    const planId = await this.planId(input.plan_id);
    const tenant = await this.tenants.update(id, { name: input.name, planId });
    if (!tenant) throw ApiError.notFound('Tenant');
    return presentTenant(tenant);
  }

  @Post('tenants/:id/suspend')
  @HttpCode(200)
  @RequireAdmin('admin:write')
  @Audited('tenant.suspend', 'tenant')
  @ApiRoute({
    summary: 'Suspend a tenant',
    description:
      "Every key of a suspended tenant is refused with 401 `invalid_api_key` (as OpenAI answers for a deactivated account's keys) until it is reactivated.",
  })
  suspend(@Param('id', idOf('Tenant')) id: string) {
    return this.setStatus(id, 'suspended');
  }

  @Post('tenants/:id/reactivate')
  @HttpCode(200)
  @RequireAdmin('admin:write')
  @Audited('tenant.reactivate', 'tenant')
  @ApiRoute({ summary: 'Reactivate a suspended tenant' })
  reactivate(@Param('id', idOf('Tenant')) id: string) {
    return this.setStatus(id, 'active');
  }

  private async setStatus(id: string, status: 'active' | 'suspended') {
    const tenant = await this.tenants.update(id, { status });
    if (!tenant) throw ApiError.notFound('Tenant');
    return presentTenant(tenant);
  }

  /** `undefined` stays undefined (no change); an unknown plan is a 400 naming `plan_id`. */
  private async planId(planId: string | null | undefined) {
    if (!planId) return planId;
    if (!(await this.plans.findById(planId)))
      throw ApiError.invalidRequest(
        `No plan with id '${planId}'.`,
        'plan_id',
        'plan_not_found',
      );
    return planId;
  }
}
