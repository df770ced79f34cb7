import { Get, Query } from '@nestjs/common';
import {
  USAGE_DIMENSIONS,
  type UsageDimension,
  UsageReportRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import {
  presentUsage,
  resolveUsageRange,
  usageRangeShape,
} from '@marquee/gateway/feature-usage';
import { ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { uuid } from '../http/fields';

const groupBy = z
  .string()
  .default('day,model')
  .transform((s) => (s === '' ? [] : [...new Set(s.split(','))]))
  .pipe(
    z.array(
      z.enum(USAGE_DIMENSIONS, {
        error: `each must be one of ${USAGE_DIMENSIONS.join(', ')}`,
      }),
    ),
  );

const usageQuery = z.strictObject({
  ...usageRangeShape,
  tenant_id: uuid.optional(),
  api_key_id: uuid.optional(),
  model: z.string().min(1).max(200).optional(),
  /** Comma-separated dimensions; empty: totals only. */
  group_by: groupBy,
});

/** Usage across tenants: filter by tenant, key, model and dates; break down by any dimension. */
@AdminController('usage')
export class UsageAdminController {
  constructor(private readonly usage: UsageReportRepository) {}

  @Get('usage')
  @RequireAdmin('billing', 'admin:read')
  @ApiRoute({
    summary: 'Usage totals and breakdowns',
    description: `Filters: tenant_id, api_key_id, model, start and end (UTC days, both included). group_by: comma-separated ${USAGE_DIMENSIONS.join(', ')} (default day,model; empty for totals only). Sums are decimal strings.`,
    query: usageQuery,
  })
  async report(@Query() query: unknown) {
    const q = parseInput(usageQuery, query);
    const range = resolveUsageRange(q);
    const report = await this.usage.report({
      tenantId: q.tenant_id,
      apiKeyId: q.api_key_id,
      modelName: q.model,
      startDay: range.start,
      endDay: range.end,
      groupBy: q.group_by as UsageDimension[],
    });
    return presentUsage(range, report);
  }
}
