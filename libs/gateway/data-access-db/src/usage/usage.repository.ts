import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

/** One finished request, as the worker counted it. */
export interface UsageEntry {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  modelId: string;
  endpoint: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
  /** When the usage happened (default: now); a settlement that waited keeps the real time. */
  createdAt?: Date;
}

/** The append-only usage ledger. */
@Injectable()
export class UsageRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Appends a row; a second call with the same request id changes nothing (the unique request
   * id makes settlement idempotent). Returns whether this call wrote the row.
   */
  async append(entry: UsageEntry): Promise<boolean> {
    const { count } = await this.prisma.usageRecord.createMany({
      data: [entry],
      skipDuplicates: true,
    });
    return count === 1;
  }

  findByRequestId(requestId: string) {
    return this.prisma.usageRecord.findUnique({ where: { requestId } });
  }
}
