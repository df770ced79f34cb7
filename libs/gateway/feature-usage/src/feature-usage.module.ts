import { Module } from '@nestjs/common';
import { AuthModule } from '@marquee/gateway/feature-auth';
import { TenantUsageController } from './tenant-usage.controller';

/** Tenant-facing usage: `GET /v1/usage`. */
@Module({ imports: [AuthModule], controllers: [TenantUsageController] })
export class FeatureUsageModule {}
