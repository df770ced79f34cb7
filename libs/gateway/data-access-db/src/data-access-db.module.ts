import { type DynamicModule, Module } from '@nestjs/common';
import { AdminTokenRepository } from './admin-tokens/admin-token.repository';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { AuditLogRepository } from './audit/audit-log.repository';
import { CreditRepository } from './credits/credit.repository';
import { InvoiceRepository } from './invoices/invoice.repository';
import { PlanRepository } from './plans/plan.repository';
import { UsageReportRepository } from './usage-reports/usage-report.repository';
import { BillingRepository } from './billing/billing.repository';
import { ModelRepository } from './models/model.repository';
import { DATABASE_URL, PrismaService } from './prisma.service';
import { TenantRepository } from './tenants/tenant.repository';
import { UsageRepository } from './usage/usage.repository';

const repositories = [
  PrismaService,
  ApiKeyRepository,
  TenantRepository,
  ModelRepository,
  UsageRepository,
  PlanRepository,
  CreditRepository,
  InvoiceRepository,
  AuditLogRepository,
  AdminTokenRepository,
  UsageReportRepository,
  BillingRepository,
];

/** PostgreSQL access for the gateway: the Prisma client and one repository per aggregate. */
@Module({})
export class DataAccessDbModule {
  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: DataAccessDbModule,
      global: true,
      providers: [
        { provide: DATABASE_URL, useValue: databaseUrl },
        ...repositories,
      ],
      exports: repositories,
    };
  }
}
