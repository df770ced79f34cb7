import type { PrismaService } from '../prisma.service';
import { type UsageOwnerDb, usageOwnerDb } from '../testing/usage-owner';
import { UsageRepository } from './usage.repository';

describe('UsageRepository (PostgreSQL)', () => {
  let owner: UsageOwnerDb;
  let prisma: PrismaService;
  let usage: UsageRepository;
  let ids: UsageOwnerDb['ids'];

  beforeAll(async () => {
    owner = await usageOwnerDb('usage');
    ({ prisma, ids } = owner);
    usage = new UsageRepository(prisma);
  });

  afterAll(async () => {
    await owner?.drop();
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
