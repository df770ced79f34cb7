import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import type { UsageEntry } from '../usage/usage.repository';

/** A finished request with its price: what settlement writes. */
export interface Settlement extends UsageEntry {
  costMicros: bigint;
}

/** First instant of `now`'s UTC month. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Money: balances from the credit ledger, and settlement of finished requests. */
@Injectable()
export class BillingRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Sum of a tenant's credit transactions (top-ups and refunds minus charges), micro-units. */
  async balanceMicros(tenantId: string): Promise<bigint> {
    const { _sum } = await this.prisma.creditTransaction.aggregate({
      where: { tenantId },
      _sum: { amountMicros: true },
    });
    return _sum.amountMicros ?? 0n;
  }

  /** What the tenant may still spend this month: the credit balance, capped by the plan's monthly budget. */
  async spendableMicros(tenantId: string, now: Date): Promise<bigint> {
    const [balance, tenant, spent] = await Promise.all([
      this.balanceMicros(tenantId),
      this.prisma.tenant.findUnique({
        where: { id: tenantId },
        select: { plan: { select: { monthlyBudgetMicros: true } } },
      }),
      this.prisma.usageRecord.aggregate({
        where: { tenantId, createdAt: { gte: monthStart(now) } },
        _sum: { costMicros: true },
      }),
    ]);
    const cap = tenant?.plan?.monthlyBudgetMicros;
    if (cap === null || cap === undefined) return balance;
    const capLeft = cap - (spent._sum.costMicros ?? 0n);
    return balance < capLeft ? balance : capLeft;
  }

  /**
   * Appends each request's usage row and its charge, all in one transaction (a settler's batch):
   * all are written or none. A request settled before writes nothing (unique request id on both),
   * so a request is never billed twice. Returns the request ids this call wrote.
   */
  async settleMany(settlements: Settlement[]): Promise<Set<string>> {
    // One request twice in a batch (a worker's count and a gateway's): the first one counts.
    const unique = [
      ...new Map(
        [...settlements].reverse().map((s) => [s.requestId, s]),
      ).values(),
    ];
    if (unique.length === 0) return new Set();
    const column = <K extends keyof Settlement>(key: K) =>
      unique.map((s) => s[key]);
    // One statement, whatever the batch size: it is atomic on its own, costs one round trip, and
    // its plan is the same for every batch (an ORM query per row shape would be planned anew).
    const rows = await this.prisma.$queryRaw<{ request_id: string }[]>`
      WITH input AS (
        SELECT * FROM unnest(
          ${column('requestId')}::text[], ${column('tenantId')}::uuid[],
          ${column('apiKeyId')}::uuid[], ${column('modelId')}::uuid[],
          ${column('endpoint')}::text[], ${column('promptTokens')}::int[],
          ${column('completionTokens')}::int[], ${column('finishReason')}::text[],
          ${unique.map((s) => s.costMicros.toString())}::bigint[],
          ${unique.map((s) => (s.createdAt ?? new Date()).toISOString())}::timestamptz[]
        ) AS t(request_id, tenant_id, api_key_id, model_id, endpoint, prompt_tokens,
               completion_tokens, finish_reason, cost_micros, at)
      ), inserted AS (
        INSERT INTO usage_records (id, request_id, tenant_id, api_key_id, model_id, endpoint,
          prompt_tokens, completion_tokens, finish_reason, cost_micros, created_at)
        SELECT gen_random_uuid(), request_id, tenant_id, api_key_id, model_id, endpoint,
          prompt_tokens, completion_tokens, finish_reason, cost_micros, at AT TIME ZONE 'UTC'
        FROM input
        ON CONFLICT (request_id) DO NOTHING
        RETURNING request_id, tenant_id, cost_micros, created_at
      ), charged AS (
        INSERT INTO credit_transactions (id, tenant_id, kind, amount_micros, request_id, created_at)
        SELECT gen_random_uuid(), tenant_id, 'charge', -cost_micros, request_id, created_at
        FROM inserted WHERE cost_micros > 0
      )
      SELECT request_id FROM inserted`;
    return new Set(rows.map((row) => row.request_id));
  }
}
