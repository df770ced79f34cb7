import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

export interface ModelUpsert {
  name: string;
  task: 'text_generation' | 'embedding';
  artifactPath: string;
  contextLength: number;
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

  upsert(model: ModelUpsert) {
    const { name, ...rest } = model;
    return this.prisma.model.upsert({
      where: { name },
      create: model,
      update: rest,
    });
  }
}
