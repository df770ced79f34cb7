import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AdmissionService } from './admission.service';
import { BudgetSource } from './budget-source';
import { RateLimitHeadersInterceptor } from './rate-limit-headers.interceptor';

/**
 * Admission against plan limits and budgets (Redis), shared by every gateway replica, and the
 * `x-ratelimit-*` headers on every tenant-key response.
 */
@Module({
  providers: [
    AdmissionService,
    BudgetSource,
    { provide: APP_INTERCEPTOR, useClass: RateLimitHeadersInterceptor },
  ],
  exports: [AdmissionService, BudgetSource],
})
export class FeatureQuotasModule {}
