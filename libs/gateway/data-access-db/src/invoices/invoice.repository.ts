import { Injectable } from '@nestjs/common';
import type { Invoice, InvoiceLine } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

export type InvoiceWithLines = Invoice & { lines: InvoiceLine[] };

interface LineTotals {
  modelName: string;
  requests: number;
  promptTokens: bigint;
  completionTokens: bigint;
  amountMicros: bigint;
}

/** `YYYY-MM` of the month after `month`. */
function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number);
  return m === 12
    ? `${year + 1}-01`
    : `${year}-${String(m + 1).padStart(2, '0')}`;
}

const withLines = {
  lines: { orderBy: { modelName: 'asc' } },
} as const satisfies Prisma.InvoiceInclude;

/** Monthly invoices, built from the usage ledger: one line per model. */
@Injectable()
export class InvoiceRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The invoice of `tenantId` for `month` (`YYYY-MM`, UTC), created from that month's usage
   * rows the first time and returned unchanged after that: one invoice per (tenant, month),
   * also when two callers race.
   */
  async generate(
    tenantId: string,
    month: string,
  ): Promise<{ invoice: InvoiceWithLines; created: boolean }> {
    const existing = await this.find(tenantId, month);
    if (existing) return { invoice: existing, created: false };
    const lines = await this.prisma.$queryRaw<LineTotals[]>`
      SELECT m.name AS "modelName", count(*)::int AS "requests",
        sum(u.prompt_tokens)::bigint AS "promptTokens",
        sum(u.completion_tokens)::bigint AS "completionTokens",
        sum(u.cost_micros)::bigint AS "amountMicros"
      FROM usage_records u JOIN models m ON m.id = u.model_id
      WHERE u.tenant_id = ${tenantId}::uuid
        AND u.created_at >= ${`${month}-01`}::date
        AND u.created_at < ${`${nextMonth(month)}-01`}::date
      GROUP BY m.name ORDER BY m.name`;
    const totalMicros = lines.reduce((sum, l) => sum + l.amountMicros, 0n);
    try {
      const invoice = await this.prisma.invoice.create({
        data: { tenantId, month, totalMicros, lines: { create: lines } },
        include: withLines,
      });
      return { invoice, created: true };
    } catch (error) {
      const raced =
        error instanceof Prisma.PrismaClientKnownRequestError &&
        error.code === 'P2002';
      const winner = raced ? await this.find(tenantId, month) : null;
      if (!winner) throw error;
      return { invoice: winner, created: false };
    }
  }

  find(tenantId: string, month: string): Promise<InvoiceWithLines | null> {
    return this.prisma.invoice.findUnique({
      where: { tenantId_month: { tenantId, month } },
      include: withLines,
    });
  }

  findById(id: string): Promise<InvoiceWithLines | null> {
    return this.prisma.invoice.findUnique({
      where: { id },
      include: withLines,
    });
  }

  /** Newest month first. */
  listByTenant(tenantId: string): Promise<Invoice[]> {
    return this.prisma.invoice.findMany({
      where: { tenantId },
      orderBy: { month: 'desc' },
    });
  }
}
