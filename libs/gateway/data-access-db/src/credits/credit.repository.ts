import { Injectable } from '@nestjs/common';
import type { CreditTransaction } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** The append-only credit ledger of each tenant. */
@Injectable()
export class CreditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Appends a `topup` of `amountMicros` (> 0). */
  topUp(
    tenantId: string,
    amountMicros: bigint,
    note: string | null,
  ): Promise<CreditTransaction> {
    if (amountMicros <= 0n) throw new RangeError('a top-up must be positive');
    return this.prisma.creditTransaction.create({
      data: { tenantId, kind: 'topup', amountMicros, note },
    });
  }

  /** Newest first. */
  list(tenantId: string, limit: number): Promise<CreditTransaction[]> {
    return this.prisma.creditTransaction.findMany({
      where: { tenantId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }
}
