import type { PrismaService } from '../prisma.service';
import { type UsageOwnerDb, usageOwnerDb } from '../testing/usage-owner';
import { BillingRepository, type Settlement } from './billing.repository';

describe('BillingRepository.settleMany (PostgreSQL)', () => {
  let owner: UsageOwnerDb;
  let prisma: PrismaService;
  let billing: BillingRepository;
  let ids: UsageOwnerDb['ids'];

  beforeAll(async () => {
    owner = await usageOwnerDb('billing');
    ({ prisma, ids } = owner);
    billing = new BillingRepository(prisma);
  });

  afterAll(async () => {
    await owner?.drop();
  });

  const settlement = (
    requestId: string,
    completionTokens: number,
    costMicros: bigint,
  ): Settlement => ({
    ...ids,
    requestId,
    endpoint: 'chat',
    promptTokens: 5,
    completionTokens,
    finishReason: 'stop',
    costMicros,
  });

  const charges = async (requestIds: string[]) =>
    prisma.creditTransaction.findMany({
      where: { requestId: { in: requestIds } },
      orderBy: { requestId: 'asc' },
    });

  it('bills a batch in one go, each request once, however often it is settled again', async () => {
    const batch = [
      settlement('req_a', 3, 30n),
      settlement('req_b', 4, 40n),
      // A request twice in one batch (a worker's count and a gateway's): the first counts.
      settlement('req_a', 9, 90n),
      // Free: a usage row, no charge.
      settlement('req_free', 2, 0n),
    ];
    expect([...(await billing.settleMany(batch))].sort()).toEqual([
      'req_a',
      'req_b',
      'req_free',
    ]);
    // A retry of the batch, with one new request.
    expect([
      ...(await billing.settleMany([...batch, settlement('req_c', 1, 10n)])),
    ]).toEqual(['req_c']);

    const rows = await prisma.usageRecord.findMany({
      where: { requestId: { in: ['req_a', 'req_b', 'req_c', 'req_free'] } },
      orderBy: { requestId: 'asc' },
    });
    expect(rows.map((r) => [r.requestId, r.completionTokens])).toEqual([
      ['req_a', 3],
      ['req_b', 4],
      ['req_c', 1],
      ['req_free', 2],
    ]);
    expect(
      (await charges(['req_a', 'req_b', 'req_c', 'req_free'])).map((c) => [
        c.requestId,
        c.amountMicros,
      ]),
    ).toEqual([
      ['req_a', -30n],
      ['req_b', -40n],
      ['req_c', -10n],
    ]);
  });

  it('keeps when the request ended, to the millisecond, on the usage row and the charge', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    await billing.settleMany([
      { ...settlement('req_at', 1, 7n), createdAt: at },
    ]);
    const row = await prisma.usageRecord.findUniqueOrThrow({
      where: { requestId: 'req_at' },
    });
    expect(row.createdAt.toISOString()).toBe(at.toISOString());
    expect(row.costMicros).toBe(7n);
    const [charge] = await charges(['req_at']);
    expect(charge.createdAt.toISOString()).toBe(at.toISOString());
    expect(charge.kind).toBe('charge');
  });

  it('writes nothing of a batch when one of its rows cannot be written', async () => {
    const bad = { ...settlement('req_bad', 1, 5n), modelId: 'no-such-model' };
    await expect(
      billing.settleMany([settlement('req_ok', 1, 5n), bad]),
    ).rejects.toThrow();
    expect(
      await prisma.usageRecord.count({ where: { requestId: 'req_ok' } }),
    ).toBe(0);
    expect(await charges(['req_ok'])).toEqual([]);
  });
});
