export * from './prisma.service';
export * from './data-access-db.module';
export * from './api-keys/api-key.repository';
export * from './tenants/tenant.repository';
export * from './models/model.repository';
export * from './usage/usage.repository';
export * from './errors/repository-error';
export * from './plans/plan.repository';
export * from './credits/credit.repository';
export * from './invoices/invoice.repository';
export * from './audit/audit-log.repository';
export * from './admin-tokens/admin-token.repository';
export * from './usage-reports/usage-report.repository';
export * from './billing/billing.repository';
export * from './responses/stored-response.repository';
export type {
  AdminToken,
  ApiKey,
  AuditLog,
  CreditTransaction,
  Invoice,
  InvoiceLine,
  Plan,
  Model,
  Tenant,
  UsageRecord,
} from './generated/prisma/client';
