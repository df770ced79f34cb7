import { Injectable } from '@nestjs/common';
import { BillingRepository } from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';

/** Budget counters live this long in Redis before they are recomputed from PostgreSQL. */
const BUDGET_TTL_S = 300;

/**
 * Counters are kept within ±2^62: Redis counters are signed 64-bit, and top-ups and refunds
 * must not overflow one (a ledger may hold more than 2^63 after "unlimited" top-ups).
 */
const COUNTER_BOUND = 2n ** 62n;

/** Hash beside a budget counter: request id -> cost reserved by admission, until settled. */
export function budgetReservationsKey(budgetKey: string): string {
  return `${budgetKey}:res`;
}

/** Hash beside a budget counter: request id -> cost given back when its lease lapsed, until charged. */
export function budgetLapsedKey(budgetKey: string): string {
  return `${budgetKey}:lapsed`;
}

/** Sorted set beside a budget counter: request id scored by its reservation's lease expiry. */
export function budgetLeasesKey(budgetKey: string): string {
  return `${budgetKey}:leases`;
}

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

  /**
   * Loads the counter from PostgreSQL, less the costs still reserved by requests in flight (the
   * ledger charges them only when they end).
   */
  async load(tenantId: string, now = new Date()): Promise<void> {
    const key = this.key(tenantId, now);
    const spendable = await this.billing.spendableMicros(tenantId, now);
    const reserved = (
      await this.redis.client.hvals(budgetReservationsKey(key))
    ).reduce((sum, cost) => sum + BigInt(cost), 0n);
    const value = clamp(spendable - reserved);
    // NX: another replica may have loaded it (and started spending) meanwhile.
    await this.redis.client.set(
      key,
      value.toString(),
      'EX',
      BUDGET_TTL_S,
      'NX',
    );
  }

  /** The tenant's remaining-budget counter for the current UTC month. */
  key(tenantId: string, now = new Date()): string {
    return this.keyOfMonth(tenantId, now.toISOString().slice(0, 7));
  }

  /** The tenant's remaining-budget counter for a UTC month (`YYYY-MM`). */
  keyOfMonth(tenantId: string, month: string): string {
    return `{mq:t:${tenantId}}:budget:${month}`;
  }

  /** Adds a top-up to the tenant's loaded counter; an unloaded one picks it up when loaded. */
  async credit(tenantId: string, amountMicros: bigint): Promise<void> {
    const key = this.key(tenantId);
    try {
      await this.redis.client.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return 0",
        1,
        key,
        amountMicros.toString(),
      );
    } catch {
      // Past a 64-bit counter: drop it; the next request reloads it, bounded, from the ledger.
      await this.redis.client.del(key);
    }
  }
}

function clamp(value: bigint): bigint {
  if (value > COUNTER_BOUND) return COUNTER_BOUND;
  if (value < -COUNTER_BOUND) return -COUNTER_BOUND;
  return value;
}
