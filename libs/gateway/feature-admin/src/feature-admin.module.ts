import { Module } from '@nestjs/common';
import { AuthModule } from '@marquee/gateway/feature-auth';
import { FeatureQuotasModule } from '@marquee/gateway/feature-quotas';
import { AdminTokensController } from './admin-tokens/admin-tokens.controller';
import { AuditLogController } from './audit/audit-log.controller';
import { CreditsController } from './credits/credits.controller';
import { AuditInterceptor } from './http/audit.interceptor';
import { InvoicesController } from './invoices/invoices.controller';
import { KeyActivityQuery } from './keys/key-activity.query';
import { KeysController } from './keys/keys.controller';
import { ModelLoadingController } from './models/model-loading.controller';
import { ModelsAdminController } from './models/models.controller';
import { PlansController } from './plans/plans.controller';
import { QueueDepths } from './queues/queue-depths.service';
import { QueuesController } from './queues/queues.controller';
import { SessionController } from './session/session.controller';
import { LatencyWindow } from './stats/latency-window.service';
import { OverviewController } from './stats/overview.controller';
import { UsageOverviewQuery } from './stats/usage-overview.query';
import { TenantsController } from './tenants/tenants.controller';
import { UsageAdminController } from './usage/usage-admin.controller';
import { WorkersController } from './workers/workers.controller';

/** The admin API, `/admin/v1`: admin-token auth with scopes, every write audited. */
@Module({
  imports: [AuthModule, FeatureQuotasModule],
  controllers: [
    TenantsController,
    KeysController,
    PlansController,
    ModelsAdminController,
    ModelLoadingController,
    WorkersController,
    CreditsController,
    UsageAdminController,
    InvoicesController,
    AuditLogController,
    AdminTokensController,
    SessionController,
    OverviewController,
    QueuesController,
  ],
  providers: [
    AuditInterceptor,
    LatencyWindow,
    UsageOverviewQuery,
    QueueDepths,
    KeyActivityQuery,
  ],
})
export class FeatureAdminModule {}
