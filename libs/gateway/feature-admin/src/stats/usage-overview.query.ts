import { Injectable } from '@nestjs/common';
import { PrismaService } from '@marquee/gateway/data-access-db';

/** One minute of the usage ledger. */
export interface MinuteUsage {
  minute: Date;
  requests: number;
  promptTokens: bigint;
  completionTokens: bigint;
  /** Requests that ended otherwise than `stop` or `length` (cancelled, worker lost, errors). */
  unfinished: number;
}

export interface TopTenant {
  tenantId: string;
  name: string;
  requests: number;
  tokens: bigint;
  costMicros: bigint;
}

/** Days and times are UTC; the ledger's `created_at` is a UTC timestamp without zone. */
const utc = (d: Date) => d.toISOString();

/**
 * The overview's reads of the usage ledger: per-minute activity, spend today and this month, and
 * the tenants who spent most this month. Read-only SQL over `usage_records` (the ledger the usage
 * report reads); kept beside the one page that needs it.
 */
@Injectable()
export class UsageOverviewQuery {
  constructor(private readonly prisma: PrismaService) {}

  perMinute(since: Date): Promise<MinuteUsage[]> {
    return this.prisma.$queryRaw<MinuteUsage[]>`
      SELECT date_trunc('minute', created_at) AS "minute",
        count(*)::int AS "requests",
        coalesce(sum(prompt_tokens), 0)::bigint AS "promptTokens",
        coalesce(sum(completion_tokens), 0)::bigint AS "completionTokens",
        (count(*) FILTER (WHERE finish_reason NOT IN ('stop', 'length')))::int AS "unfinished"
      FROM usage_records
      WHERE created_at >= ${utc(since)}::timestamp
      GROUP BY 1 ORDER BY 1`;
  }

  async spend(
    dayStart: Date,
    monthStart: Date,
  ): Promise<{ today: bigint; month: bigint }> {
    const [row] = await this.prisma.$queryRaw<
      { today: bigint; month: bigint }[]
    >`
      SELECT coalesce(sum(cost_micros) FILTER (WHERE created_at >= ${utc(dayStart)}::timestamp), 0)::bigint AS "today",
        coalesce(sum(cost_micros), 0)::bigint AS "month"
      FROM usage_records
      WHERE created_at >= ${utc(monthStart)}::timestamp`;
    return row ?? { today: 0n, month: 0n };
  }

  topTenants(monthStart: Date, limit: number): Promise<TopTenant[]> {
    return this.prisma.$queryRaw<TopTenant[]>`
      SELECT u.tenant_id::text AS "tenantId", t.name AS "name",
        count(*)::int AS "requests",
        coalesce(sum(u.prompt_tokens + u.completion_tokens), 0)::bigint AS "tokens",
        coalesce(sum(u.cost_micros), 0)::bigint AS "costMicros"
      FROM usage_records u JOIN tenants t ON t.id = u.tenant_id
      WHERE u.created_at >= ${utc(monthStart)}::timestamp
      GROUP BY 1, 2
      ORDER BY "costMicros" DESC, "requests" DESC, "name" ASC
      LIMIT ${limit}`;
  }
}
