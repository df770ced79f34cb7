import { randomUUID } from 'node:crypto';
import {
  BillingRepository,
  PrismaService,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { ApiError } from '@marquee/gateway/util-http';
import {
  createTestDatabase,
  type TestDatabase,
} from '@marquee/shared/util-setup';
import {
  type AdmissionLimits,
  AdmissionService,
  type AdmissionTicket,
} from './admission.service';
import { BudgetSource, budgetLeasesKey } from './budget-source';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const roomy: AdmissionLimits = {
  requestsPerMinute: 10_000,
  tokensPerMinute: 10_000_000,
  maxConcurrentRequests: 1_000,
};

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('AdmissionService (Redis + PostgreSQL)', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let redis: RedisConnection;
  let admission: AdmissionService;
  let billing: BillingRepository;
  let budgets: BudgetSource;
  let modelId: string;

  const ticket = (
    tenantId: string,
    overrides: Partial<AdmissionTicket> = {},
  ): AdmissionTicket => ({
    requestId: `req_${randomUUID()}`,
    tenantId,
    apiKeyId: 'key-1',
    tokens: 100,
    costMicros: 0n,
    limits: roomy,
    ...overrides,
  });

  async function tenantWithCredit(micros: bigint): Promise<string> {
    const tenant = await new TenantRepository(prisma).create(
      `t-${randomUUID()}`,
    );
    if (micros > 0n)
      await prisma.creditTransaction.create({
        data: { tenantId: tenant.id, kind: 'topup', amountMicros: micros },
      });
    return tenant.id;
  }

  beforeAll(async () => {
    db = await createTestDatabase('admission');
    prisma = new PrismaService(db.url);
    redis = new RedisConnection(REDIS_URL);
    billing = new BillingRepository(prisma);
    budgets = new BudgetSource(billing, redis);
    admission = new AdmissionService(redis, budgets);
    modelId = (
      await prisma.model.create({
        data: { name: 'm', artifactPath: '/m', contextLength: 512 },
      })
    ).id;
  });

  afterAll(async () => {
    await redis?.onModuleDestroy();
    await prisma?.$disconnect();
    await db?.drop();
  });

  it('admits within limits and reports x-ratelimit headers', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 5,
      tokensPerMinute: 1_000,
      maxConcurrentRequests: 10,
    };
    const granted = await admission.admit(
      ticket(tenantId, { limits, tokens: 300 }),
    );
    expect(granted.headers).toMatchObject({
      'x-ratelimit-limit-requests': '5',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '700',
    });
    expect(granted.headers['x-ratelimit-reset-requests']).toMatch(
      /^\d+(ms|s)$|^1m0s$/,
    );
  });

  it('reports where a key stands without admitting anything', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 10,
      tokensPerMinute: 1_000,
      maxConcurrentRequests: 10,
    };
    await admission.admit(ticket(tenantId, { limits, tokens: 250 }));
    const headers = await admission.peek(tenantId, 'key-1', limits);
    const again = await admission.peek(tenantId, 'key-1', limits);
    expect(headers['x-ratelimit-remaining-requests']).toBe('9');
    expect(headers['x-ratelimit-remaining-tokens']).toBe('750');
    expect(again['x-ratelimit-remaining-requests']).toBe('9');
  });

  it("holds a key to its own lower limit while the tenant's other keys keep theirs", async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 10,
      tokensPerMinute: 100_000,
      maxConcurrentRequests: 10,
    };
    const capped = { ...limits, keyRequestsPerMinute: 2 };
    await admission.admit(
      ticket(tenantId, { apiKeyId: 'capped', limits: capped }),
    );
    const second = await admission.admit(
      ticket(tenantId, { apiKeyId: 'capped', limits: capped }),
    );
    expect(second.headers['x-ratelimit-limit-requests']).toBe('2');
    expect(second.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(
      (
        await refusal(
          admission.admit(
            ticket(tenantId, { apiKeyId: 'capped', limits: capped }),
          ),
        )
      ).code,
    ).toBe('rate_limit_exceeded');
    const other = await admission.admit(
      ticket(tenantId, { apiKeyId: 'other', limits }),
    );
    // The tenant has used 3 of its 10.
    expect(other.headers['x-ratelimit-remaining-requests']).toBe('7');
  });

  it('refuses the request past the per-minute limit with 429 rate_limit_exceeded and retry headers', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 3,
      tokensPerMinute: 1_000_000,
      maxConcurrentRequests: 10,
    };
    for (let i = 0; i < 3; i++)
      await admission.admit(ticket(tenantId, { limits }));
    const error = await refusal(admission.admit(ticket(tenantId, { limits })));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(Number(error.headers['retry-after-ms'])).toBeGreaterThan(0);
    expect(Number(error.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(error.headers['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('reserves tokens up front and settles them to the actual count', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 100,
      tokensPerMinute: 1_000,
      maxConcurrentRequests: 10,
    };
    const first = await admission.admit(
      ticket(tenantId, { limits, tokens: 900 }),
    );
    expect(
      (
        await refusal(
          admission.admit(ticket(tenantId, { limits, tokens: 200 })),
        )
      ).code,
    ).toBe('rate_limit_exceeded');
    await admission.settle(first, 100, 0n);
    const second = await admission.admit(
      ticket(tenantId, { limits, tokens: 200 }),
    );
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('700');
  });

  it('keeps admitting after a request settled at 0 tokens leaves the window', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const lost = ticket(tenantId, { tokens: 300 });
    const failed = await admission.admit(lost);
    // It never ran (no worker took it, say): settled at 0 tokens.
    await admission.settle(failed, 0, 0n);
    // A minute passes: age its window entries (scores are admission times in ms).
    const tag = `{mq:t:${tenantId}}`;
    for (const set of [
      `${tag}:tpm:k:key-1`,
      `${tag}:tpm:t`,
      `${tag}:rpm:k:key-1`,
      `${tag}:rpm:t`,
    ])
      await redis.client.zadd(set, 'XX', Date.now() - 61_000, lost.requestId);
    const next = await admission.admit(ticket(tenantId, { tokens: 100 }));
    expect(next.headers['x-ratelimit-remaining-tokens']).toBe(
      String(roomy.tokensPerMinute - 100),
    );
    const peek = await admission.peek(tenantId, 'key-1', roomy);
    expect(peek['x-ratelimit-remaining-tokens']).toBe(
      String(roomy.tokensPerMinute - 100),
    );
  });

  it('keeps in-flight reservations when the budget counter is reloaded, so a tenant never spends past its credit', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const running = await admission.admit(
      ticket(tenantId, { costMicros: 1_000n }),
    );
    // The counter expires (or is evicted) while the request runs; the ledger has not charged it.
    await redis.client.del(budgets.key(tenantId));
    const refused = await refusal(
      admission.admit(ticket(tenantId, { costMicros: 1_000n })),
    );
    expect(refused.code).toBe('insufficient_quota');
    // It ends having used 100: 900 come back, once.
    await admission.settle(running, 2, 100n);
    await admission.settle(running, 2, 100n);
    await admission.admit(ticket(tenantId, { costMicros: 900n }));
    expect(
      (await refusal(admission.admit(ticket(tenantId, { costMicros: 1n }))))
        .code,
    ).toBe('insufficient_quota');
  });

  /** Ages every lease of a tenant as if its gateway died and stopped renewing them. */
  async function lapseLeases(tenantId: string): Promise<void> {
    const tag = `{mq:t:${tenantId}}`;
    for (const key of [
      `${tag}:conc:k:key-1`,
      `${tag}:conc:t`,
      budgetLeasesKey(budgets.key(tenantId)),
    ]) {
      const members = await redis.client.zrange(key, '0', '-1');
      for (const member of members) await redis.client.zadd(key, '1', member);
    }
  }

  it('frees the slots and budget of a dead gateway once their leases lapse, and charges a late settlement once', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = { ...roomy, maxConcurrentRequests: 1 };
    const orphan = await admission.admit(
      ticket(tenantId, { limits, costMicros: 1_000n }),
    );
    expect(
      (await refusal(admission.admit(ticket(tenantId, { limits })))).code,
    ).toBe('rate_limit_exceeded');
    // Its gateway dies: nobody renews or ends it.
    admission.onModuleDestroy();
    await lapseLeases(tenantId);
    const next = await admission.admit(
      ticket(tenantId, { limits, costMicros: 1_000n }),
    );
    await admission.end(next, { action: 'release' });
    // The orphan's job did run: its usage (300) settles late, from the ledger, twice.
    const scope = {
      requestId: orphan.ticket.requestId,
      tenantId,
      apiKeyId: 'key-1',
      budgetMonth: orphan.budgetMonth,
    };
    await admission.charge(scope, 10, 300n);
    await admission.charge(scope, 10, 300n);
    expect(await redis.client.get(budgets.key(tenantId))).toBe('700');
  });

  it('keeps the reservation of a request whose usage waits for the settler, and converts it to the charge', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = { ...roomy, maxConcurrentRequests: 1 };
    const granted = await admission.admit(
      ticket(tenantId, { limits, costMicros: 600n }),
    );
    // The response went out; PostgreSQL has not billed it yet.
    await admission.end(granted, { action: 'keep', tokens: 10 });
    // Its slot is free at once, its reservation still held.
    const next = await admission.admit(ticket(tenantId, { limits }));
    await admission.end(next, { action: 'release' });
    expect(
      (await refusal(admission.admit(ticket(tenantId, { costMicros: 500n }))))
        .code,
    ).toBe('insufficient_quota');
    await admission.charge(
      {
        requestId: granted.ticket.requestId,
        tenantId,
        apiKeyId: 'key-1',
        budgetMonth: granted.budgetMonth,
      },
      10,
      200n,
    );
    expect(await redis.client.get(budgets.key(tenantId))).toBe('800');
  });

  it('renews the leases of requests it holds', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = { ...roomy, maxConcurrentRequests: 1 };
    const { requestId: id } = (
      await admission.admit(ticket(tenantId, { limits, costMicros: 100n }))
    ).ticket;
    const key = `{mq:t:${tenantId}}:conc:t`;
    const score = async () => Number(await redis.client.zscore(key, id));
    const before = await score();
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    const after = await score();
    expect(after).toBeGreaterThan(before + 4_000);
    admission.onModuleDestroy();
  });

  it('admits a tenant whose credit is beyond a 64-bit counter, and takes more top-ups', async () => {
    const tenantId = await tenantWithCredit(2n ** 63n - 1n);
    await prisma.creditTransaction.create({
      data: { tenantId, kind: 'topup', amountMicros: 2n ** 63n - 1n },
    });
    const granted = await admission.admit(
      ticket(tenantId, { costMicros: 5_000n }),
    );
    expect(granted.ticket.tenantId).toBe(tenantId);
    // A further top-up would overflow the loaded counter: it is dropped and reloaded, bounded.
    await budgets.credit(tenantId, 2n ** 63n - 1n);
    await admission.settle(granted, 10, 1n);
    await expect(
      admission.admit(ticket(tenantId, { costMicros: 5_000n })),
    ).resolves.toMatchObject({ ticket: { tenantId } });
    expect(
      BigInt((await redis.client.get(budgets.key(tenantId))) ?? '0'),
    ).toBeGreaterThan(2n ** 61n);
  });

  it('reports where every limit stands on a refusal, not zeros', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 100,
      tokensPerMinute: 1_000,
      maxConcurrentRequests: 1,
    };
    await admission.admit(ticket(tenantId, { limits, tokens: 900 }));
    const tokens = await refusal(
      admission.admit(ticket(tenantId, { limits, tokens: 200 })),
    );
    expect(tokens.code).toBe('rate_limit_exceeded');
    expect(tokens.headers['x-ratelimit-remaining-requests']).toBe('99');
    expect(tokens.headers['x-ratelimit-remaining-tokens']).toBe('100');
    expect(tokens.headers['x-ratelimit-reset-requests']).not.toBe('0s');
    const busy = await refusal(
      admission.admit(ticket(tenantId, { limits, tokens: 50 })),
    );
    expect(busy.headers['x-ratelimit-remaining-requests']).toBe('99');
    expect(busy.headers['x-ratelimit-remaining-tokens']).toBe('100');
  });

  it('tells a client whose single request exceeds tokens per minute not to retry', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 100,
      tokensPerMinute: 500,
      maxConcurrentRequests: 10,
    };
    const error = await refusal(
      admission.admit(ticket(tenantId, { limits, tokens: 501 })),
    );
    expect(error.status).toBe(429);
    expect(error.headers['x-should-retry']).toBe('false');
  });

  it('limits concurrent requests and frees a slot when one settles, once', async () => {
    const tenantId = await tenantWithCredit(1_000n);
    const limits = {
      requestsPerMinute: 100,
      tokensPerMinute: 100_000,
      maxConcurrentRequests: 2,
    };
    const a = await admission.admit(ticket(tenantId, { limits }));
    await admission.admit(ticket(tenantId, { limits }));
    expect(
      (await refusal(admission.admit(ticket(tenantId, { limits })))).code,
    ).toBe('rate_limit_exceeded');
    await admission.settle(a, 10, 0n);
    await admission.settle(a, 10, 0n);
    await admission.admit(ticket(tenantId, { limits }));
    expect(
      (await refusal(admission.admit(ticket(tenantId, { limits })))).code,
    ).toBe('rate_limit_exceeded');
  });

  it('refuses with insufficient_quota and x-should-retry false when the budget cannot cover the worst case', async () => {
    const tenantId = await tenantWithCredit(100n);
    const limits = { ...roomy, requestsPerMinute: 10, tokensPerMinute: 1_000 };
    await admission.admit(ticket(tenantId, { limits, costMicros: 1n }));
    const error = await refusal(
      admission.admit(ticket(tenantId, { limits, costMicros: 100n })),
    );
    expect(error.status).toBe(429);
    expect(error.code).toBe('insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
    expect(error.headers['x-should-retry']).toBe('false');
    // The real state of the limits, not zeros: one request of 100 tokens in the window.
    expect(error.headers['x-ratelimit-remaining-requests']).toBe('9');
    expect(error.headers['x-ratelimit-remaining-tokens']).toBe('900');
  });

  it('makes a top-up spendable at once, even with the budget counter already loaded', async () => {
    const tenantId = await tenantWithCredit(100n);
    await admission.admit(ticket(tenantId, { costMicros: 100n }));
    expect(
      (await refusal(admission.admit(ticket(tenantId, { costMicros: 50n }))))
        .code,
    ).toBe('insufficient_quota');
    await prisma.creditTransaction.create({
      data: { tenantId, kind: 'topup', amountMicros: 1_000n },
    });
    await budgets.credit(tenantId, 1_000n);
    await expect(
      admission.admit(ticket(tenantId, { costMicros: 50n })),
    ).resolves.toMatchObject({ ticket: { tenantId } });
  });

  it('never lets 50 concurrent requests charge more than the budget plus one request', async () => {
    const maxCost = 1_000n;
    const tenantId = await tenantWithCredit(5n * maxCost);
    const key = await prisma.apiKey.create({
      data: { tenantId, name: 'k', prefix: 'mq_x', hash: randomUUID() },
    });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const t = ticket(tenantId, { apiKeyId: key.id, costMicros: maxCost });
        try {
          const granted = await admission.admit(t);
          // Each request really costs between half and all of its worst case.
          const actual = maxCost / 2n + BigInt(i % 3) * 200n;
          await billing.settleMany([
            {
              requestId: t.requestId,
              tenantId,
              apiKeyId: key.id,
              modelId,
              endpoint: 'completions',
              promptTokens: 1,
              completionTokens: 1,
              finishReason: 'length',
              costMicros: actual,
            },
          ]);
          await admission.settle(granted, 2, actual);
          return 'admitted';
        } catch (error) {
          if (error instanceof ApiError && error.code === 'insufficient_quota')
            return 'refused';
          throw error;
        }
      }),
    );
    const charged = await prisma.creditTransaction.aggregate({
      where: { tenantId, kind: 'charge' },
      _sum: { amountMicros: true },
    });
    const total = -(charged._sum.amountMicros ?? 0n);
    expect(
      outcomes.filter((o) => o === 'admitted').length,
    ).toBeGreaterThanOrEqual(5);
    expect(outcomes).toContain('refused');
    expect(total).toBeLessThanOrEqual(5n * maxCost + maxCost);
  });
});
