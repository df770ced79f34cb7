import { randomUUID } from 'node:crypto';
import { type Server, Socket, createServer } from 'node:net';
import {
  USAGE_SETTLERS_GROUP,
  type UsageEntryPayload,
  appendUsage,
  budgetMonthOf,
} from '@marquee/contracts/queue';
import type { TenantQueues } from '@marquee/gateway/data-access-queue';
import {
  JobDispatch,
  RequestAccounting,
  UsageSettler,
} from '@marquee/gateway/feature-openai';
import type { Admission } from '@marquee/gateway/feature-quotas';
import type { Principal } from '@marquee/gateway/util-http';
import { Redis } from 'ioredis';
import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones refused). */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) =>
      this.server?.listen(this.port, '127.0.0.1', resolve),
    );
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The settler turns the usage ledger into PostgreSQL rows: exactly once per request, the
 * worker's count over a gateway's, and never lost while the database is away.
 */
describe('usage settler (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let redis: Redis;
  let proxy: CuttableProxy;
  let ledger: string;
  let tenantId: string;
  let apiKeyId: string;
  let modelId: string;

  beforeAll(async () => {
    proxy = new CuttableProxy({ host: '127.0.0.1', port: 5432 });
    await proxy.open();
    gw = await startTestGateway('settler', {
      databaseUrl: (url) => {
        const through = new URL(url);
        through.hostname = '127.0.0.1';
        through.port = String(proxy.port);
        return through.toString();
      },
    });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    ledger = gw.app.get(RequestAccounting).ledger;
    const http = new HttpClient(gw.app);
    const admin = (url: string, body: unknown) =>
      http.call('POST', url, { token: gw.adminToken, body });
    tenantId = (await admin('/admin/v1/tenants', { name: 'Studio' })).body.id;
    await admin(`/admin/v1/tenants/${tenantId}/credits`, {
      amount_micros: '10000000',
    });
    modelId = (
      await admin('/admin/v1/models', {
        name: `settle-${process.pid}`,
        artifact_path: `/models/settle-${process.pid}`,
        context_length: 64,
        input_price_per_mtok_micros: '1000000',
        output_price_per_mtok_micros: '2000000',
      })
    ).body.id;
    apiKeyId = (
      await admin(`/admin/v1/tenants/${tenantId}/keys`, { name: 'k' })
    ).body.id;
  });

  afterAll(async () => {
    await redis.del(ledger);
    redis.disconnect();
    await gw?.close();
    await proxy?.cut();
  });

  const entry = (
    requestId: string,
    overrides: Partial<UsageEntryPayload> = {},
  ): UsageEntryPayload => ({
    requestId,
    tenantId,
    apiKeyId,
    modelId,
    endpoint: 'completions',
    ran: true,
    promptTokens: 5,
    completionTokens: 7,
    finishReason: 'length',
    budgetMonth: budgetMonthOf(Date.now()),
    source: 'worker',
    at: Date.now(),
    ...overrides,
  });

  const rows = (requestId: string) =>
    gw.prisma.usageRecord.findMany({ where: { requestId } });
  const charges = (requestId: string) =>
    gw.prisma.creditTransaction.findMany({ where: { requestId } });
  const settled = (requestId: string) =>
    until(`the usage of ${requestId}`, async () => {
      const found = await rows(requestId);
      return found.length > 0 ? found : null;
    });

  it('bills a worker entry once at its price, even when it is recorded twice', async () => {
    const id = `req_${randomUUID()}`;
    await appendUsage(redis, ledger, entry(id));
    await appendUsage(redis, ledger, entry(id));
    const [row] = await settled(id);
    expect(row.promptTokens).toBe(5);
    expect(row.completionTokens).toBe(7);
    // 5 x 1 + 7 x 2 micro-units per token.
    expect(row.costMicros).toBe(19n);
    await until('the ledger to drain', async () =>
      (await redis.xlen(ledger)) === 0 ? true : null,
    );
    expect(await rows(id)).toHaveLength(1);
    const charged = await charges(id);
    expect(charged.map((c) => c.amountMicros)).toEqual([-19n]);
  });

  it("bills the worker's own count over what a gateway relayed from it", async () => {
    const id = `req_${randomUUID()}`;
    await appendUsage(
      redis,
      ledger,
      entry(id, { source: 'gateway', completionTokens: 3 }),
    );
    await appendUsage(redis, ledger, entry(id, { completionTokens: 9 }));
    const [row] = await settled(id);
    expect(row.completionTokens).toBe(9);
    // The relayed count is looked at after its grace, and finds the request billed.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await rows(id)).toHaveLength(1);
    expect((await rows(id))[0].completionTokens).toBe(9);
  });

  it("bills what a gateway relayed when the worker's own count never comes", async () => {
    const id = `req_${randomUUID()}`;
    const at = Date.now();
    await appendUsage(
      redis,
      ledger,
      entry(id, { source: 'gateway', completionTokens: 3, at }),
    );
    const [row] = await settled(id);
    expect(row.completionTokens).toBe(3);
    expect(Date.now() - at).toBeGreaterThanOrEqual(5_000);
  });

  it('bills nothing for a job dropped without running', async () => {
    const id = `req_${randomUUID()}`;
    await appendUsage(
      redis,
      ledger,
      entry(id, { ran: false, promptTokens: 0, completionTokens: 0 }),
    );
    const marker = `req_${randomUUID()}`;
    await appendUsage(redis, ledger, entry(marker));
    await settled(marker);
    expect(await rows(id)).toHaveLength(0);
  });

  it('bills nothing for a job the gateway answered 503 after queueing it, when a worker runs it anyway', async () => {
    const id = `req_${randomUUID()}`;
    // Redis took the job, then the connection died before its reply: the enqueue fails.
    const queue = {
      enqueue: async () => {
        throw new Error('Connection is closed.');
      },
    } as unknown as TenantQueues<never>;
    await expect(
      gw.app.get(JobDispatch).dispatch(
        queue,
        {
          requestId: id,
          tenantId,
          apiKeyId,
          model: `settle-${process.pid}`,
          billing: { ledger, modelId, budgetMonth: budgetMonthOf(Date.now()) },
        } as never,
        'completions',
        { priorityTier: 5, fairnessWeight: 1 } as Principal,
        { requestId: id } as unknown as Admission,
        () => false,
      ),
    ).rejects.toMatchObject({ status: 503 });
    // The job ran on a worker after all, which records its count.
    await appendUsage(redis, ledger, entry(id));
    const marker = `req_${randomUUID()}`;
    await appendUsage(redis, ledger, entry(marker));
    await settled(marker);
    const [row, ...more] = await rows(id);
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      promptTokens: 0,
      completionTokens: 0,
      costMicros: 0n,
      finishReason: 'queue_unavailable',
    });
    expect(await charges(id)).toEqual([]);
  });

  it('takes over an entry a dead replica read and never acknowledged', async () => {
    const id = `req_${randomUUID()}`;
    // A replica blocked on a read as it died can still be handed an entry.
    const dead = new Redis(REDIS_URL);
    const read = dead.xreadgroup(
      'GROUP',
      USAGE_SETTLERS_GROUP,
      'dead-replica',
      'COUNT',
      '1',
      'BLOCK',
      '5000',
      'STREAMS',
      ledger,
      '>',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await appendUsage(redis, ledger, entry(id));
    const taken = await read;
    dead.disconnect();
    // Either it won the race (and its entry is stranded) or the live settler did.
    expect(taken === null || JSON.stringify(taken).includes(id)).toBe(true);
    const [row] = await settled(id);
    expect(row.completionTokens).toBe(7);
    expect(await rows(id)).toHaveLength(1);
  });

  it('keeps every entry while PostgreSQL is unreachable and bills each once when it is back', async () => {
    const settler = gw.app.get(UsageSettler);
    await proxy.cut();
    const failuresBefore = settler.stats.failures;
    const ids = Array.from({ length: 10 }, () => `req_${randomUUID()}`);
    for (const id of ids) await appendUsage(redis, ledger, entry(id));
    await until('settlement attempts to fail', async () =>
      settler.stats.failures > failuresBefore ? true : null,
    );
    expect(await redis.xlen(ledger)).toBeGreaterThanOrEqual(ids.length);
    await proxy.open();
    for (const id of ids) expect(await settled(id)).toHaveLength(1);
    for (const id of ids) expect(await charges(id)).toHaveLength(1);
  });
});
