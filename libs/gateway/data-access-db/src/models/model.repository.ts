import { Injectable } from '@nestjs/common';
import { isMissingRecord, rethrowConstraint } from '../errors/repository-error';
import { PrismaService } from '../prisma.service';

export interface ModelUpsert {
  name: string;
  task: 'text_generation' | 'embedding';
  artifactPath: string;
  contextLength: number;
}

/** Everything an admin sets on a model. Prices: micro-units per 1,000,000 tokens. */
export interface ModelDefinition extends ModelUpsert {
  version?: string;
  ownedBy?: string;
  tenantId?: string | null;
  inputPricePerMTokMicros?: bigint;
  outputPricePerMTokMicros?: bigint;
}

@Injectable()
export class ModelRepository {
  constructor(private readonly prisma: PrismaService) {}

  findByName(name: string) {
    return this.prisma.model.findUnique({ where: { name } });
  }

  list() {
    return this.prisma.model.findMany({ orderBy: { name: 'asc' } });
  }

  findById(id: string) {
    return this.prisma.model.findUnique({ where: { id } });
  }

  /** The model named `name` if `tenantId` may use it: public, or private to that tenant. */
  findVisibleByName(name: string, tenantId: string) {
    return this.prisma.model.findFirst({
      where: { name, OR: [{ tenantId: null }, { tenantId }] },
    });
  }

  /** Public models and those private to `tenantId`. */
  listVisible(tenantId: string) {
    return this.prisma.model.findMany({
      where: { OR: [{ tenantId: null }, { tenantId }] },
      orderBy: { name: 'asc' },
    });
  }

  /** @throws RepositoryError `duplicate` when the name is taken. */
  async create(model: ModelDefinition) {
    try {
      return await this.prisma.model.create({ data: model });
    } catch (error) {
      rethrowConstraint(error, `A model named '${model.name}'`);
    }
  }

  /** Null when no such model. */
  async update(id: string, patch: Partial<ModelDefinition>) {
    try {
      return await this.prisma.model.update({ where: { id }, data: patch });
    } catch (error) {
      if (isMissingRecord(error)) return null;
      rethrowConstraint(error, `A model named '${patch.name ?? ''}'`);
    }
  }

  upsert(model: ModelUpsert) {
    const { name, ...rest } = model;
    return this.prisma.model.upsert({
      where: { name },
      create: model,
      update: rest,
    });
  }
}
