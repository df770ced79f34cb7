import { Injectable } from '@nestjs/common';
import type { AdminToken } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

/** What a live admin token resolves to. */
export interface AdminTokenPrincipal {
  id: string;
  scopes: string[];
}

/** Admin credentials: like tenant keys, only hashes and display prefixes are stored. */
@Injectable()
export class AdminTokenRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(input: {
    name: string;
    prefix: string;
    hash: string;
    scopes: string[];
  }): Promise<AdminToken> {
    return this.prisma.adminToken.create({ data: input });
  }

  async findActiveByHash(hash: string): Promise<AdminTokenPrincipal | null> {
    const token = await this.prisma.adminToken.findUnique({
      where: { hash },
      select: { id: true, scopes: true, revokedAt: true },
    });
    if (!token || token.revokedAt) return null;
    return { id: token.id, scopes: token.scopes };
  }

  list(): Promise<AdminToken[]> {
    return this.prisma.adminToken.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /** False when no such token. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.prisma.adminToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count > 0) return true;
    return (await this.prisma.adminToken.count({ where: { id } })) > 0;
  }
}
