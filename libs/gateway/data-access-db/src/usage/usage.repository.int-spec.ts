import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { ModelRepository } from '../models/model.repository';
import { PrismaService } from '../prisma.service';
import { TenantRepository } from '../tenants/tenant.repository';
import { UsageRepository } from './usage.repository';

describe('UsageRepository (PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let usage: UsageRepository;
  let ids: { tenantId: string; apiKeyId: string; modelId: string };

  beforeAll(async () => {
    db = await createTestDatabase('usage');
    prisma = new PrismaService(db.url);
    usage = new UsageRepository(prisma);
    const tenant = await new TenantRepository(prisma).create('studio');
    const key = await new ApiKeyRepository(prisma).create({
      tenantId: tenant.id,
      name: 'k',
      prefix: 'mq_x',
      hash: 'h'.repeat(64),
    });
    const model = await new ModelRepository(prisma).upsert({
      name: 'm',
      task: 'text_generation',
      artifactPath: '/m',
      contextLength: 64,
    });
    ids = { tenantId: tenant.id, apiKeyId: key.id, modelId: model.id };
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  const entry = (requestId: string, completionTokens: number) => ({
    ...ids,
    requestId,
    endpoint: 'completions',
    promptTokens: 5,
    completionTokens,
    finishReason: 'length',
  });

  it('records a settled request once, however often settlement is retried', async () => {
    expect(await usage.append(entry('req_once', 7))).toBe(true);
    expect(await usage.append(entry('req_once', 7))).toBe(false);
    expect(await usage.append(entry('req_once', 99))).toBe(false);
    const rows = await prisma.usageRecord.findMany({
      where: { requestId: 'req_once' },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].completionTokens).toBe(7);
  });

  it('keeps concurrent duplicate settlements to a single row', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => usage.append(entry('req_race', 3))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(
      await prisma.usageRecord.count({ where: { requestId: 'req_race' } }),
    ).toBe(1);
  });
});
