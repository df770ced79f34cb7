import { Body, Get, Param, Post, Res } from '@nestjs/common';
import { ApiProduces } from '@nestjs/swagger';
import {
  type Invoice,
  type InvoiceWithLines,
  InvoiceRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { month } from '../http/fields';
import { iso, list, str } from '../http/present';
import { idOf } from '../http/uuid-param';
import { invoiceCsv } from './invoice-csv';

const generateInvoice = z.strictObject({ month });

const presentInvoice = (i: Invoice) => ({
  id: i.id,
  object: 'invoice' as const,
  tenant_id: i.tenantId,
  month: i.month,
  total_micros: str(i.totalMicros),
  created_at: iso(i.createdAt),
});

const presentInvoiceWithLines = (i: InvoiceWithLines) => ({
  ...presentInvoice(i),
  lines: i.lines.map((l) => ({
    model: l.modelName,
    requests: l.requests,
    prompt_tokens: str(l.promptTokens),
    completion_tokens: str(l.completionTokens),
    amount_micros: str(l.amountMicros),
  })),
});

const currentMonth = () => new Date().toISOString().slice(0, 7);

/** Monthly invoices built from the usage ledger; one per tenant and month. */
@AdminController('invoices')
export class InvoicesController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly invoices: InvoiceRepository,
  ) {}

  @Post('tenants/:id/invoices')
  @RequireAdmin('billing')
  @Audited('invoice.generate', 'invoice')
  @ApiRoute({
    summary: "Generate a tenant's invoice for a closed month",
    description:
      'One line per model, summed from the usage ledger (cost at settlement prices). Idempotent: the first call creates it (201), later calls return the same invoice (200). The current and future months are refused (400 `month_not_closed`).',
    body: generateInvoice,
  })
  async generate(
    @Param('id', idOf('Tenant')) tenantId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const input = parseInput(generateInvoice, body);
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    if (input.month >= currentMonth())
      throw ApiError.invalidRequest(
        `The month ${input.month} has not ended yet (UTC).`,
        'month',
        'month_not_closed',
      );
    const { invoice, created } = await this.invoices.generate(
      tenantId,
      input.month,
    );
    void reply.status(created ? 201 : 200);
    return presentInvoiceWithLines(invoice);
  }

  @Get('tenants/:id/invoices')
  @RequireAdmin('billing')
  @ApiRoute({ summary: "List a tenant's invoices, newest month first" })
  async list(@Param('id', idOf('Tenant')) tenantId: string) {
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    return list(
      (await this.invoices.listByTenant(tenantId)).map(presentInvoice),
    );
  }

  @Get('invoices/:id')
  @RequireAdmin('billing')
  @ApiRoute({ summary: 'Get an invoice with its lines' })
  async get(@Param('id', idOf('Invoice')) id: string) {
    return presentInvoiceWithLines(await this.find(id));
  }

  @Get('invoices/:id/csv')
  @RequireAdmin('billing')
  @ApiProduces('text/csv')
  @ApiRoute({ summary: 'Download an invoice as CSV' })
  async csv(
    @Param('id', idOf('Invoice')) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const invoice = await this.find(id);
    void reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="invoice-${invoice.month}-${invoice.tenantId}.csv"`,
      );
    return invoiceCsv(invoice);
  }

  private async find(id: string) {
    const invoice = await this.invoices.findById(id);
    if (!invoice) throw ApiError.notFound('Invoice');
    return invoice;
  }
}
