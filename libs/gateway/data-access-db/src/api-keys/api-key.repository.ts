import { Injectable } from '@nestjs/common';
import type { Principal } from '@marquee/gateway/util-http';
import { PrismaService } from '../prisma.service';

/** Limits for tenants without a plan. */
export const DEFAULT_PLAN_LIMITS = {
  requestsPerMinute: 600,
  tokensPerMinute: 1_000_000,
  maxConcurrentRequests: 32,
  priorityTier: 5,
  fairnessWeight: 1,
} as const;

/** Columns of a key that may be shown: never `hash` or `previousHash`. */
export const PUBLIC_API_KEY_FIELDS = {
  id: true,
  tenantId: true,
  name: true,
  prefix: true,
  allowedModels: true,
  requestsPerMinute: true,
  tokensPerMinute: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  previousExpiresAt: true,
  createdAt: true,
} as const;

/** A key as admins may see it. */
export interface PublicApiKey {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  allowedModels: string[];
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  previousExpiresAt: Date | null;
  createdAt: Date;
}

/** Outcome of {@link ApiKeyRepository.rotate}. */
export type KeyRotation =
  | { status: 'rotated'; key: PublicApiKey }
  | { status: 'not_found' | 'revoked' | 'conflict' };

/** Stored API keys: only hashes and display prefixes ever reach the database. */
@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * The live key with this hash (or whose previous secret, within its rotation grace period, has
   * this hash), if it is neither revoked nor expired and its tenant is active.
   */
  async findActiveByHash(
    hash: string,
    now = new Date(),
  ): Promise<Principal | null> {
    const key = await this.prisma.apiKey.findFirst({
      where: {
        OR: [{ hash }, { previousHash: hash, previousExpiresAt: { gt: now } }],
        revokedAt: null,
        AND: [{ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] }],
        tenant: { status: 'active' },
      },
      select: {
        id: true,
        tenantId: true,
        allowedModels: true,
        requestsPerMinute: true,
        tokensPerMinute: true,
        expiresAt: true,
        previousExpiresAt: true,
        tenant: { select: { plan: true } },
      },
    });
    if (!key) return null;
    const plan = key.tenant.plan ?? DEFAULT_PLAN_LIMITS;
    const ends = [key.expiresAt, key.previousExpiresAt].filter(
      (at): at is Date => at !== null && at > now,
    );
    return {
      apiKeyId: key.id,
      tenantId: key.tenantId,
      allowedModels: key.allowedModels,
      requestsPerMinute: plan.requestsPerMinute,
      tokensPerMinute: plan.tokensPerMinute,
      keyRequestsPerMinute: key.requestsPerMinute ?? undefined,
      keyTokensPerMinute: key.tokensPerMinute ?? undefined,
      maxConcurrentRequests: plan.maxConcurrentRequests,
      priorityTier: plan.priorityTier,
      fairnessWeight: plan.fairnessWeight,
      validUntil: ends.length
        ? new Date(Math.min(...ends.map((at) => at.getTime())))
        : null,
    };
  }

  async create(input: {
    tenantId: string;
    name: string;
    prefix: string;
    hash: string;
    allowedModels?: string[];
    expiresAt?: Date | null;
    requestsPerMinute?: number | null;
    tokensPerMinute?: number | null;
  }) {
    return this.prisma.apiKey.create({ data: input });
  }

  /** A tenant's keys, oldest first, without any hash. */
  listByTenant(tenantId: string): Promise<PublicApiKey[]> {
    return this.prisma.apiKey.findMany({
      where: { tenantId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: PUBLIC_API_KEY_FIELDS,
    });
  }

  /** One key without any hash, or null. */
  findById(id: string): Promise<PublicApiKey | null> {
    return this.prisma.apiKey.findUnique({
      where: { id },
      select: PUBLIC_API_KEY_FIELDS,
    });
  }

  /**
   * Gives a live key a new secret (`hash`, `prefix`) under the same id. The replaced secret keeps
   * working until `previousExpiresAt` (now + `graceMs`); a secret replaced by an earlier rotation
   * stops working at once.
   */
  async rotate(
    id: string,
    secret: { prefix: string; hash: string },
    graceMs: number,
    now = new Date(),
  ): Promise<KeyRotation> {
    const current = await this.prisma.apiKey.findUnique({
      where: { id },
      select: { hash: true, revokedAt: true },
    });
    if (!current) return { status: 'not_found' };
    if (current.revokedAt) return { status: 'revoked' };
    const previousExpiresAt = new Date(now.getTime() + graceMs);
    // Conditional on the hash we read: of two concurrent rotations, only one wins.
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, hash: current.hash, revokedAt: null },
      data: {
        hash: secret.hash,
        prefix: secret.prefix,
        previousHash: current.hash,
        previousExpiresAt,
      },
    });
    if (count === 0) return { status: 'conflict' };
    const key = await this.findById(id);
    return key ? { status: 'rotated', key } : { status: 'not_found' };
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
