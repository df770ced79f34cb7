import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

/** What an authenticated key resolves to. */
export interface KeyPrincipal {
  apiKeyId: string;
  tenantId: string;
}

/** Stored API keys: only hashes and display prefixes ever reach the database. */
@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The live key with this hash, if its tenant is active and it is not revoked. */
  async findActiveByHash(hash: string): Promise<KeyPrincipal | null> {
    const key = await this.prisma.apiKey.findUnique({
      where: { hash },
      select: {
        id: true,
        tenantId: true,
        revokedAt: true,
        tenant: { select: { status: true } },
      },
    });
    if (!key || key.revokedAt || key.tenant.status !== 'active') return null;
    return { apiKeyId: key.id, tenantId: key.tenantId };
  }

  async create(input: {
    tenantId: string;
    name: string;
    prefix: string;
    hash: string;
  }) {
    return this.prisma.apiKey.create({ data: input });
  }

  /** Marks a key revoked; false when no such key exists. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count > 0) return true;
    return (await this.prisma.apiKey.count({ where: { id } })) > 0;
  }

  async touch(id: string): Promise<void> {
    await this.prisma.apiKey.update({
      where: { id },
      data: { lastUsedAt: new Date() },
    });
  }
}
