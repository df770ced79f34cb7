import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

@Injectable()
export class TenantRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(name: string) {
    return this.prisma.tenant.create({ data: { name } });
  }

  findById(id: string) {
    return this.prisma.tenant.findUnique({ where: { id } });
  }

  findByName(name: string) {
    return this.prisma.tenant.findFirst({
      where: { name },
      orderBy: { createdAt: 'asc' },
    });
  }
}
