import { randomUUID } from 'node:crypto';
import {
  announceQueuedJob,
  QUEUE_PREFIX,
  tenantQueueName,
} from '@marquee/contracts/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

/** The admin endpoints the dashboard added: who am I, the overview, queues and workers. */
describe('dashboard admin endpoints (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let redis: Redis;
  const model = `dash-${process.pid}-${Date.now().toString(36)}`;
  const f = {} as {
    tenant: string;
    key: string;
    model: string;
  };
  const asAdmin = (url: string, token = gw.adminToken) =>
    http.call('GET', url, { token });

  beforeAll(async () => {
    gw = await startTestGateway('dashboard-api');
    http = new HttpClient(gw.app);
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const tenant = await http.call('POST', '/admin/v1/tenants', {
      token: gw.adminToken,
      body: { name: 'Studio Overview' },
    });
    f.tenant = tenant.body.id;
    const registered = await http.call('POST', '/admin/v1/models', {
      token: gw.adminToken,
      body: {
        name: model,
        artifact_path: '/nowhere',
        context_length: 64,
        input_price_per_mtok_micros: 1_000_000,
        output_price_per_mtok_micros: 2_000_000,
      },
    });
    f.model = registered.body.id;
    const key = await http.call('POST', `/admin/v1/tenants/${f.tenant}/keys`, {
      token: gw.adminToken,
      body: { name: 'k' },
    });
    f.key = key.body.id;
  });

  afterAll(async () => {
    const keys = await redis.keys(`${QUEUE_PREFIX}:*${model}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await gw?.close();
  });

  it('tells a scoped token which scopes it holds, and the bootstrap token that it is bootstrap', async () => {
    const boot = await asAdmin('/admin/v1/me');
    expect(boot.body).toEqual({
      object: 'admin_session',
      actor: 'bootstrap',
      bootstrap: true,
      scopes: ['admin:read', 'admin:write', 'billing'],
    });
    const minted = await http.call('POST', '/admin/v1/admin-tokens', {
      token: gw.adminToken,
      body: { name: 'billing desk', scopes: ['billing'] },
    });
    const me = await asAdmin('/admin/v1/me', minted.body.token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      actor: minted.body.id,
      bootstrap: false,
      scopes: ['billing'],
    });
  });

  it('sums the last minutes of the ledger, spend today and this month, and ranks tenants by spend', async () => {
    const now = new Date();
    const row = (promptTokens: number, completionTokens: number, at: Date) =>
      gw.prisma.usageRecord.create({
        data: {
          requestId: randomUUID(),
          tenantId: f.tenant,
          apiKeyId: f.key,
          modelId: f.model,
          endpoint: 'completions',
          promptTokens,
          completionTokens,
          finishReason: 'length',
          costMicros: BigInt(promptTokens + 2 * completionTokens),
          createdAt: at,
        },
      });
    await row(10, 5, now);
    await row(3, 4, now);
    // Two hours ago: outside the series, inside today's spend unless that was yesterday.
    const earlier = new Date(now.getTime() - 2 * 3_600_000);
    await row(100, 0, earlier);

    const reply = await asAdmin('/admin/v1/stats/overview');
    expect(reply.status).toBe(200);
    const { series, spend, top_tenants, latency, workers } = reply.body;
    expect(series).toHaveLength(60);
    const last = series.at(-1);
    expect(last.minute).toBe(
      new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString(),
    );
    const inWindow = series.reduce(
      (sum: { r: number; p: number; c: number }, m: Record<string, never>) => ({
        r: sum.r + Number(m.requests),
        p: sum.p + Number(m.prompt_tokens),
        c: sum.c + Number(m.completion_tokens),
      }),
      { r: 0, p: 0, c: 0 },
    );
    expect(inWindow).toEqual({ r: 2, p: 13, c: 9 });
    const sameDay =
      earlier.toISOString().slice(0, 10) === now.toISOString().slice(0, 10);
    const sameMonth =
      earlier.toISOString().slice(0, 7) === now.toISOString().slice(0, 7);
    expect(spend.today_micros).toBe(String(20 + 11 + (sameDay ? 100 : 0)));
    expect(spend.month_micros).toBe(String(20 + 11 + (sameMonth ? 100 : 0)));
    expect(top_tenants[0]).toMatchObject({
      tenant_id: f.tenant,
      name: 'Studio Overview',
      requests: sameMonth ? 3 : 2,
    });
    expect(latency).toMatchObject({ window_seconds: 300 });
    expect(workers).toMatchObject({ live: expect.any(Number) });
  });

  it("counts each key's billed requests and when its latest ended", async () => {
    const reply = await asAdmin(`/admin/v1/tenants/${f.tenant}/key-activity`);
    expect(reply.status).toBe(200);
    expect(reply.body.data).toHaveLength(1);
    const [activity] = reply.body.data;
    expect(activity).toMatchObject({ api_key_id: f.key, requests: 3 });
    expect(
      Math.abs(Date.parse(activity.last_request_at) - Date.now()),
    ).toBeLessThan(60_000);
  });

  it("lists a tenant's waiting jobs per model with the oldest one's wait, without taking them", async () => {
    const queue = new Queue(tenantQueueName(model, f.tenant), {
      connection: redis,
      prefix: QUEUE_PREFIX,
    });
    try {
      await queue.add('infer', { n: 1 }, { jobId: 'dash-1' });
      await queue.add('infer', { n: 2 }, { jobId: 'dash-2' });
      await announceQueuedJob(redis, model, f.tenant, { tier: 5, weight: 1 });
      const reply = await asAdmin('/admin/v1/queues');
      expect(reply.status).toBe(200);
      const entry = reply.body.queues.find(
        (q: { model: string }) => q.model === model,
      );
      expect(entry).toMatchObject({
        tenant_id: f.tenant,
        tenant_name: 'Studio Overview',
        waiting: 2,
        running: 0,
        failed: 0,
      });
      expect(entry.oldest_wait_seconds).toBeGreaterThanOrEqual(0);
      expect(await queue.getWaitingCount()).toBe(2);
      expect(Array.isArray(reply.body.workers)).toBe(true);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('refuses the queues to a billing-only token with 403 insufficient_scope', async () => {
    const minted = await http.call('POST', '/admin/v1/admin-tokens', {
      token: gw.adminToken,
      body: { name: 'billing only', scopes: ['billing'] },
    });
    const reply = await asAdmin('/admin/v1/queues', minted.body.token);
    expect(reply.status).toBe(403);
    expect(reply.body.error.code).toBe('insufficient_scope');
  });
});
