import { Injectable } from '@nestjs/common';
import { BillingRepository } from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';

/** Budget counters live this long in Redis before they are recomputed from PostgreSQL. */
const BUDGET_TTL_S = 300;

/**
 * Seeds a tenant's Redis budget counter from the system of record: what it may still spend this
 * month, the lower of its credit balance and its plan's monthly cap minus this month's spend.
 */
@Injectable()
export class BudgetSource {
  constructor(
    private readonly billing: BillingRepository,
    private readonly redis: RedisConnection,
  ) {}

  async load(tenantId: string, now = new Date()): Promise<void> {
    const key = this.key(tenantId, now);
    const spendable = await this.billing.spendableMicros(tenantId, now);
    // NX: another replica may have loaded it (and started spending) meanwhile.
    await this.redis.client.set(
      key,
      spendable.toString(),
      'EX',
      BUDGET_TTL_S,
      'NX',
    );
  }

  /** The tenant's remaining-budget counter for the current UTC month. */
  key(tenantId: string, now = new Date()): string {
    return `{mq:t:${tenantId}}:budget:${now.toISOString().slice(0, 7)}`;
  }

  /** Adds a top-up to the tenant's loaded counter; an unloaded one picks it up when loaded. */
  async credit(tenantId: string, amountMicros: bigint): Promise<void> {
    const key = this.key(tenantId);
    await this.redis.client.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return 0",
      1,
      key,
      amountMicros.toString(),
    );
  }
}
