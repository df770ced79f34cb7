import { BudgetSource } from '@marquee/gateway/feature-quotas';
import { Body, Get, Param, Post, Query } from '@nestjs/common';
import {
  BillingRepository,
  type CreditTransaction,
  CreditRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { limit, positiveMicros } from '../http/fields';
import { iso, str } from '../http/present';
import { idOf } from '../http/uuid-param';

const topUp = z.strictObject({
  amount_micros: positiveMicros,
  note: z.string().max(500, 'at most 500 characters').optional(),
});
const listCredits = z.strictObject({ limit: limit(500, 50) });

const presentTransaction = (t: CreditTransaction) => ({
  id: t.id,
  object: 'credit_transaction' as const,
  tenant_id: t.tenantId,
  kind: t.kind,
  amount_micros: str(t.amountMicros),
  request_id: t.requestId,
  note: t.note,
  created_at: iso(t.createdAt),
});

/** The credit ledger: top-ups (append-only) and the balance. */
@AdminController('credits')
export class CreditsController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly credits: CreditRepository,
    private readonly billing: BillingRepository,
    private readonly budgets: BudgetSource,
  ) {}

  @Post('tenants/:id/credits')
  @RequireAdmin('billing')
  @Audited('credit.topup', 'credit_transaction')
  @ApiRoute({
    summary: 'Top up a tenant',
    description:
      'Appends a `topup` credit transaction. `amount_micros`: a positive integer of micro-units, as a JSON integer or a string of digits.',
    body: topUp,
  })
  async topUp(
    @Param('id', idOf('Tenant')) tenantId: string,
    @Body() body: unknown,
  ) {
    const input = parseInput(topUp, body);
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    const transaction = await this.credits.topUp(
      tenantId,
      input.amount_micros,
      input.note ?? null,
    );
    // Spendable at once, on every replica: admission's budget counter lives in Redis.
    await this.budgets.credit(tenantId, transaction.amountMicros);
    return {
      ...presentTransaction(transaction),
      balance_micros: str(await this.billing.balanceMicros(tenantId)),
    };
  }

  @Get('tenants/:id/credits')
  @RequireAdmin('billing')
  @ApiRoute({
    summary: "A tenant's balance and latest credit transactions",
    query: listCredits,
  })
  async list(
    @Param('id', idOf('Tenant')) tenantId: string,
    @Query() query: unknown,
  ) {
    const { limit: take } = parseInput(listCredits, query);
    if (!(await this.tenants.findById(tenantId)))
      throw ApiError.notFound('Tenant');
    const [balance, transactions] = await Promise.all([
      this.billing.balanceMicros(tenantId),
      this.credits.list(tenantId, take),
    ]);
    return {
      object: 'list' as const,
      tenant_id: tenantId,
      balance_micros: str(balance),
      data: transactions.map(presentTransaction),
    };
  }
}
