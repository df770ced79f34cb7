import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

@Injectable()
export class TenantRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(name: string, planId: string | null = null) {
    return this.prisma.tenant.create({ data: { name, planId } });
  }

  /** Oldest first; `after` is the id of the last tenant of the previous page. */
  list(limit: number, after?: string) {
    return this.prisma.tenant.findMany({
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      ...(after ? { cursor: { id: after }, skip: 1 } : {}),
    });
  }

  /** Null when no such tenant. A `planId` of null takes the tenant off its plan. */
  async update(
    id: string,
    patch: {
      name?: string;
      planId?: string | null;
      status?: 'active' | 'suspended';
    },
  ) {
    const { count } = await this.prisma.tenant.updateMany({
      where: { id },
      data: patch,
    });
    return count === 0 ? null : this.findById(id);
  }

  findById(id: string) {
    return this.prisma.tenant.findUnique({ where: { id } });
  }

  /** The names of the tenants among `ids` that exist, by id (one query). */
  async namesOf(ids: string[]): Promise<Map<string, string>> {
    const tenants = await this.prisma.tenant.findMany({
      where: { id: { in: ids } },
      select: { id: true, name: true },
    });
    return new Map(tenants.map((t) => [t.id, t.name]));
  }

  findByName(name: string) {
    return this.prisma.tenant.findFirst({
      where: { name },
      orderBy: { createdAt: 'asc' },
    });
  }
}
