import { Injectable } from '@nestjs/common';
import type { Plan } from '../generated/prisma/client';
import { isMissingRecord, rethrowConstraint } from '../errors/repository-error';
import { PrismaService } from '../prisma.service';

/** A plan's limits. Money in micro-units. */
export interface PlanInput {
  name: string;
  requestsPerMinute: number;
  tokensPerMinute: number;
  maxConcurrentRequests: number;
  monthlyBudgetMicros: bigint | null;
  priorityTier: number;
  fairnessWeight: number;
}

@Injectable()
export class PlanRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** @throws RepositoryError `duplicate` when the name is taken. */
  async create(input: PlanInput): Promise<Plan> {
    try {
      return await this.prisma.plan.create({ data: input });
    } catch (error) {
      rethrowConstraint(error, `A plan named '${input.name}'`);
    }
  }

  list(): Promise<Plan[]> {
    return this.prisma.plan.findMany({ orderBy: { name: 'asc' } });
  }

  findById(id: string): Promise<Plan | null> {
    return this.prisma.plan.findUnique({ where: { id } });
  }

  /** Null when no such plan. @throws RepositoryError `duplicate` when renamed onto a taken name. */
  async update(id: string, patch: Partial<PlanInput>): Promise<Plan | null> {
    try {
      return await this.prisma.plan.update({ where: { id }, data: patch });
    } catch (error) {
      if (isMissingRecord(error)) return null;
      rethrowConstraint(error, `A plan named '${patch.name ?? ''}'`);
    }
  }

  /** False when no such plan. @throws RepositoryError `in_use` while tenants are on it. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.prisma.plan.delete({ where: { id } });
      return true;
    } catch (error) {
      if (isMissingRecord(error)) return false;
      rethrowConstraint(error, 'The plan');
    }
  }
}
