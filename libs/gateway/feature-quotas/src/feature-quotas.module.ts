import { Module } from '@nestjs/common';
import { AdmissionService } from './admission.service';
import { BudgetSource } from './budget-source';

/** Admission against plan limits and budgets (Redis), shared by every gateway replica. */
@Module({
  providers: [AdmissionService, BudgetSource],
  exports: [AdmissionService, BudgetSource],
})
export class FeatureQuotasModule {}
