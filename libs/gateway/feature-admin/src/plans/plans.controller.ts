import {
  Body,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import {
  type Plan,
  type PlanInput,
  PlanRepository,
} from '@marquee/gateway/data-access-db';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiError, ApiRoute, parseInput } from '@marquee/gateway/util-http';
import { z } from 'zod';
import { AdminController } from '../http/admin-controller';
import { Audited } from '../http/audited';
import { micros, name, positiveInt } from '../http/fields';
import { iso, list, str } from '../http/present';
import { idOf } from '../http/uuid-param';

const planFields = {
  name,
  requests_per_minute: positiveInt,
  tokens_per_minute: positiveInt,
  max_concurrent_requests: positiveInt,
  /** null: no monthly cap beyond the tenant's credits. */
  monthly_budget_micros: micros.nullable(),
  priority_tier: z.number().int('must be an integer').min(0).max(9),
  fairness_weight: z.number().int('must be an integer').min(1).max(1000),
};
const createPlan = z.strictObject({
  ...planFields,
  monthly_budget_micros: planFields.monthly_budget_micros.default(null),
  priority_tier: planFields.priority_tier.default(5),
  fairness_weight: planFields.fairness_weight.default(1),
});
const updatePlan = z
  .strictObject(planFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field');

type PlanBody = Partial<z.output<typeof createPlan>>;

const toInput = (b: PlanBody): Partial<PlanInput> => ({
  name: b.name,
  requestsPerMinute: b.requests_per_minute,
  tokensPerMinute: b.tokens_per_minute,
  maxConcurrentRequests: b.max_concurrent_requests,
  monthlyBudgetMicros: b.monthly_budget_micros,
  priorityTier: b.priority_tier,
  fairnessWeight: b.fairness_weight,
});

const presentPlan = (p: Plan) => ({
  id: p.id,
  object: 'plan' as const,
  name: p.name,
  requests_per_minute: p.requestsPerMinute,
  tokens_per_minute: p.tokensPerMinute,
  max_concurrent_requests: p.maxConcurrentRequests,
  monthly_budget_micros: str(p.monthlyBudgetMicros),
  priority_tier: p.priorityTier,
  fairness_weight: p.fairnessWeight,
  created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt),
});

/** Plans: the limits, budget and scheduling weight tenants are put on. */
@AdminController('plans')
export class PlansController {
  constructor(private readonly plans: PlanRepository) {}

  @Post('plans')
  @RequireAdmin('admin:write')
  @Audited('plan.create', 'plan')
  @ApiRoute({ summary: 'Create a plan', body: createPlan })
  async create(@Body() body: unknown) {
    const input = toInput(parseInput(createPlan, body)) as PlanInput;
    return presentPlan(await this.plans.create(input));
  }

  @Get('plans')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'List plans' })
  async list() {
    return list((await this.plans.list()).map(presentPlan));
  }

  @Get('plans/:id')
  @RequireAdmin('admin:read')
  @ApiRoute({ summary: 'Get a plan' })
  async get(@Param('id', idOf('Plan')) id: string) {
    const plan = await this.plans.findById(id);
    if (!plan) throw ApiError.notFound('Plan');
    return presentPlan(plan);
  }

  @Patch('plans/:id')
  @RequireAdmin('admin:write')
  @Audited('plan.update', 'plan')
  @ApiRoute({
    summary: 'Change a plan',
    description:
      'Applies to every tenant on the plan, on every replica within a second.',
    body: updatePlan,
  })
  async update(@Param('id', idOf('Plan')) id: string, @Body() body: unknown) {
    const plan = await this.plans.update(
      id,
      toInput(parseInput(updatePlan, body)),
    );
    if (!plan) throw ApiError.notFound('Plan');
    return presentPlan(plan);
  }

  @Delete('plans/:id')
  @HttpCode(200)
  @RequireAdmin('admin:write')
  @Audited('plan.delete', 'plan')
  @ApiRoute({
    summary: 'Delete a plan no tenant is on (409 `in_use` otherwise)',
  })
  async delete(@Param('id', idOf('Plan')) id: string) {
    if (!(await this.plans.delete(id))) throw ApiError.notFound('Plan');
    return { id, object: 'plan' as const, deleted: true };
  }
}
