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

  async load(tenantId: string, key: string, now = new Date()): Promise<void> {
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

  /** Adds money to a loaded counter (a top-up); an unloaded one picks it up when loaded. */
  async credit(key: string, amountMicros: bigint): Promise<void> {
    await this.redis.client.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return 0",
      1,
      key,
      amountMicros.toString(),
    );
  }
}
