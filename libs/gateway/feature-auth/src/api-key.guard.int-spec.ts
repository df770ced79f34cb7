import {
  ApiKeyRepository,
  PrismaService,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { ApiError } from '@marquee/gateway/util-http';
import type { ExecutionContext } from '@nestjs/common';
import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
import { mintApiKey } from './api-key-secret';
import { ApiKeyGuard } from './api-key.guard';
import { PrincipalCache } from './principal-cache.service';

function contextFor(authorization?: string) {
  const request: Record<string, unknown> = {
    headers: authorization ? { authorization } : {},
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { request, context };
}

async function rejection(
  guard: ApiKeyGuard,
  authorization?: string,
): Promise<ApiError> {
  try {
    await guard.canActivate(contextFor(authorization).context);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the guard to refuse');
}

describe('ApiKeyGuard (PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let keys: ApiKeyRepository;
  let guard: ApiKeyGuard;
  let redis: RedisConnection;
  let cache: PrincipalCache;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase('auth');
    prisma = new PrismaService(db.url);
    keys = new ApiKeyRepository(prisma);
    redis = new RedisConnection(
      process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    );
    cache = new PrincipalCache(keys, redis);
    await cache.onModuleInit();
    guard = new ApiKeyGuard(cache);
    tenantId = (await new TenantRepository(prisma).create('studio')).id;
  });

  afterAll(async () => {
    cache?.onModuleDestroy();
    await redis?.onModuleDestroy();
    await prisma?.$disconnect();
    await db?.drop();
  });

  it('admits a live key and resolves it to its tenant; the database holds only its hash', async () => {
    const minted = mintApiKey();
    const stored = await keys.create({
      tenantId,
      name: 'k',
      prefix: minted.prefix,
      hash: minted.hash,
    });
    const { request, context } = contextFor(`Bearer ${minted.key}`);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.principal).toMatchObject({
      tenantId,
      apiKeyId: stored.id,
      allowedModels: [],
    });
    const rows = await prisma.$queryRaw<
      Record<string, unknown>[]
    >`SELECT * FROM api_keys`;
    expect(JSON.stringify(rows)).not.toContain(minted.key);
  });

  it('rejects a revoked key with 401 invalid_api_key', async () => {
    const minted = mintApiKey();
    const stored = await keys.create({
      tenantId,
      name: 'k',
      prefix: minted.prefix,
      hash: minted.hash,
    });
    const { context } = contextFor(`Bearer ${minted.key}`);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(await keys.revoke(stored.id)).toBe(true);
    await cache.broadcastChange();
    const error = await rejection(guard, `Bearer ${minted.key}`);
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
  });

  it('rejects unknown, malformed and missing keys with 401, never echoing the key', async () => {
    const unknown = await rejection(
      guard,
      'Bearer mq_not-a-real-key-0000000000000000',
    );
    expect(unknown.status).toBe(401);
    expect(unknown.message).not.toContain('mq_not-a-real-key');
    expect((await rejection(guard, 'Bearer sk-openai')).status).toBe(401);
    expect((await rejection(guard)).status).toBe(401);
  });

  it('rejects keys of a suspended tenant', async () => {
    const minted = mintApiKey();
    await keys.create({
      tenantId,
      name: 'k',
      prefix: minted.prefix,
      hash: minted.hash,
    });
    await prisma.tenant.update({
      where: { id: tenantId },
      data: { status: 'suspended' },
    });
    expect((await rejection(guard, `Bearer ${minted.key}`)).code).toBe(
      'invalid_api_key',
    );
    await prisma.tenant.update({
      where: { id: tenantId },
      data: { status: 'active' },
    });
    await cache.broadcastChange();
  });

  it("accepts a rotated key's previous secret only during its grace period", async () => {
    const first = mintApiKey();
    const stored = await keys.create({
      tenantId,
      name: 'k',
      prefix: first.prefix,
      hash: first.hash,
    });
    const second = mintApiKey();
    await prisma.apiKey.update({
      where: { id: stored.id },
      data: {
        hash: second.hash,
        previousHash: first.hash,
        previousExpiresAt: new Date(Date.now() + 60_000),
      },
    });
    await cache.broadcastChange();
    await expect(
      guard.canActivate(contextFor(`Bearer ${second.key}`).context),
    ).resolves.toBe(true);
    await expect(
      guard.canActivate(contextFor(`Bearer ${first.key}`).context),
    ).resolves.toBe(true);
    await prisma.apiKey.update({
      where: { id: stored.id },
      data: { previousExpiresAt: new Date(Date.now() - 1) },
    });
    await cache.broadcastChange();
    expect((await rejection(guard, `Bearer ${first.key}`)).code).toBe(
      'invalid_api_key',
    );
  });
});
