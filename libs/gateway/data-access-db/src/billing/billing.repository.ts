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
   * Appends the usage row and its charge in one transaction. A repeated settlement of the same
   * request writes nothing (unique request id on both), so a request is never billed twice.
   * Returns whether this call wrote them.
   */
  async settle(settlement: Settlement): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.usageRecord.createMany({
        data: [settlement],
        skipDuplicates: true,
      });
      if (count === 0) return false;
      if (settlement.costMicros > 0n) {
        await tx.creditTransaction.create({
          data: {
            tenantId: settlement.tenantId,
            kind: 'charge',
            amountMicros: -settlement.costMicros,
            requestId: settlement.requestId,
            ...(settlement.createdAt
              ? { createdAt: settlement.createdAt }
              : {}),
          },
        });
      }
      return true;
    });
  }
}
