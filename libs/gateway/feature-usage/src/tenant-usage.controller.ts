import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { UsageReportRepository } from '@marquee/gateway/data-access-db';
import { ApiKeyGuard } from '@marquee/gateway/feature-auth';
import {
  ApiRoute,
  CurrentPrincipal,
  type Principal,
  parseInput,
} from '@marquee/gateway/util-http';
import { presentUsage } from './usage.presenter';
import { resolveUsageRange, usageRangeShape } from './usage-range';
import { z } from 'zod';

const usageQuery = z.strictObject(usageRangeShape);

/** `GET /v1/usage`: the calling tenant's own usage, per model per day, with totals. */
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
@ApiTags('usage')
@ApiBearerAuth('tenant')
export class TenantUsageController {
  constructor(private readonly usage: UsageReportRepository) {}

  @Get()
  @ApiRoute({
    summary: "The caller's own usage over a date range",
    description:
      'Totals and one row per model per UTC day, for the tenant that owns the key; there is no parameter to name another tenant. Token and cost sums are decimal strings (cost in micro-units).',
    query: usageQuery,
  })
  async get(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const range = resolveUsageRange(parseInput(usageQuery, query));
    const report = await this.usage.report({
      tenantId: principal.tenantId,
      startDay: range.start,
      endDay: range.end,
      groupBy: ['day', 'model'],
    });
    return presentUsage(range, report);
  }
}
