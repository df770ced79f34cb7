import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** Ways usage can be broken down. `day` is the UTC calendar day. */
export const USAGE_DIMENSIONS = ['day', 'model', 'api_key', 'tenant'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export interface UsageQuery {
  tenantId?: string;
  apiKeyId?: string;
  modelName?: string;
  /** First UTC day included, `YYYY-MM-DD`. */
  startDay: string;
  /** Last UTC day included, `YYYY-MM-DD`. */
  endDay: string;
  groupBy: readonly UsageDimension[];
}

/** Sums over a set of usage rows. Token and money sums are BigInt (they can pass 2^53). */
export interface UsageSums {
  requests: number;
  promptTokens: bigint;
  completionTokens: bigint;
  costMicros: bigint;
}

export type UsageRow = UsageSums & {
  day?: string;
  model?: string;
  apiKeyId?: string;
  tenantId?: string;
};

const COLUMNS: Record<UsageDimension, { expr: string; alias: string }> = {
  day: {
    expr: `to_char(date_trunc('day', u.created_at), 'YYYY-MM-DD')`,
    alias: 'day',
  },
  model: { expr: 'm.name', alias: 'model' },
  api_key: { expr: 'u.api_key_id::text', alias: 'apiKeyId' },
  tenant: { expr: 'u.tenant_id::text', alias: 'tenantId' },
};

const SUMS = Prisma.raw(`count(*)::int AS "requests",
  coalesce(sum(u.prompt_tokens), 0)::bigint AS "promptTokens",
  coalesce(sum(u.completion_tokens), 0)::bigint AS "completionTokens",
  coalesce(sum(u.cost_micros), 0)::bigint AS "costMicros"`);

/** Read-only reports over the usage ledger. */
@Injectable()
export class UsageReportRepository {
  constructor(private readonly prisma: PrismaService) {}

  async report(
    query: UsageQuery,
  ): Promise<{ totals: UsageSums; rows: UsageRow[] }> {
    const where = this.where(query);
    const from = Prisma.sql`FROM usage_records u JOIN models m ON m.id = u.model_id WHERE ${where}`;
    const [totals] = await this.prisma.$queryRaw<
      UsageSums[]
    >`SELECT ${SUMS} ${from}`;
    if (query.groupBy.length === 0) return { totals, rows: [] };
    const columns = query.groupBy.map((d) => COLUMNS[d]);
    const select = Prisma.raw(
      columns.map((c) => `${c.expr} AS "${c.alias}"`).join(', '),
    );
    const keys = Prisma.raw(columns.map((_, i) => `${i + 1}`).join(', '));
    const rows = await this.prisma.$queryRaw<UsageRow[]>`
      SELECT ${select}, ${SUMS} ${from} GROUP BY ${keys} ORDER BY ${keys}`;
    return { totals, rows };
  }

  private where(query: UsageQuery): Prisma.Sql {
    const conditions = [
      Prisma.sql`u.created_at >= ${query.startDay}::date`,
      Prisma.sql`u.created_at < (${query.endDay}::date + 1)`,
    ];
    if (query.tenantId)
      conditions.push(Prisma.sql`u.tenant_id = ${query.tenantId}::uuid`);
    if (query.apiKeyId)
      conditions.push(Prisma.sql`u.api_key_id = ${query.apiKeyId}::uuid`);
    if (query.modelName)
      conditions.push(Prisma.sql`m.name = ${query.modelName}`);
    return Prisma.join(conditions, ' AND ');
  }
}
