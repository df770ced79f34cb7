import { GatewayMetrics } from '@marquee/shared/util-observability';
import { HttpClient, type Reply } from './testing/http';
import { isOpenAiError } from './testing/raw-http';
import { type ProxyMode, TcpProxy } from './testing/tcp-proxy';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** "Within a second or two": the connect and command timeouts, plus slack for a busy machine. */
const ANSWER_WITHIN_MS = 3_500;

describe('PostgreSQL or Redis unavailable: 503 with retry-after, fast, and recovery (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let pg: TcpProxy;
  let redis: TcpProxy;
  let key: string;
  let model: string;

  const timed = async (
    call: () => Promise<Reply>,
  ): Promise<Reply & { ms: number }> => {
    const started = Date.now();
    const reply = await call();
    return { ...reply, ms: Date.now() - started };
  };
  const asAdmin = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    http.call(method, url, { token: gw.adminToken, body });

  function expectUnavailable(reply: Reply & { ms: number }, code: string) {
    expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({
      status: 503,
      code,
    });
    expect(isOpenAiError(reply.body)).toBe(true);
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    expect(reply.ms).toBeLessThan(ANSWER_WITHIN_MS);
  }

  beforeAll(async () => {
    redis = await TcpProxy.start(REDIS_URL);
    pg = await TcpProxy.start('postgresql://127.0.0.1:5432');
    // Only this gateway goes through the proxies; fixtures and the rest of the suite do not.
    gw = await startTestGateway('outage', {
      databaseUrl: (url) => pg.route(url),
      redisUrl: redis.route(REDIS_URL),
    });
    http = new HttpClient(gw.app);
    const tenant = (await asAdmin('POST', '/admin/v1/tenants', { name: 'o' }))
      .body.id;
    key = (
      await asAdmin('POST', `/admin/v1/tenants/${tenant}/keys`, { name: 'k' })
    ).body.key;
    model = `outage-${process.pid}`;
    await asAdmin('POST', '/admin/v1/models', {
      name: model,
      artifact_path: '/models/outage',
      context_length: 64,
    });
  });

  afterAll(async () => {
    pg?.set('up');
    redis?.set('up');
    await gw?.close();
    await pg?.close();
    await redis?.close();
  });

  describe.each<ProxyMode>(['refuse', 'blackhole'])('PostgreSQL %s', (mode) => {
    afterEach(() => pg.set('up'));

    it('answers /v1/models and admin reads and writes with 503 database_unavailable, then recovers', async () => {
      expect(
        (await http.call('GET', '/v1/models', { token: key })).status,
      ).toBe(200);
      pg.set(mode);
      expectUnavailable(
        await timed(() => http.call('GET', '/v1/models', { token: key })),
        'database_unavailable',
      );
      expectUnavailable(
        await timed(() => asAdmin('GET', '/admin/v1/tenants')),
        'database_unavailable',
      );
      expectUnavailable(
        await timed(() =>
          asAdmin('POST', '/admin/v1/tenants', { name: 'during outage' }),
        ),
        'database_unavailable',
      );
      pg.set('up');
      // No restart: the pool reconnects on the next query.
      expect(
        (await http.call('GET', '/v1/models', { token: key })).status,
      ).toBe(200);
      expect((await asAdmin('GET', '/admin/v1/tenants')).status).toBe(200);
    });
  });

  describe.each<ProxyMode>(['refuse', 'blackhole'])('Redis %s', (mode) => {
    afterEach(() => redis.set('up'));

    it('answers a completion and the worker list with 503, never 500, then recovers', async () => {
      expect((await asAdmin('GET', '/admin/v1/workers')).status).toBe(200);
      const handled = async (operation: string) =>
        (
          await gw.app.get(GatewayMetrics).handledFailureCount.get()
        ).values.find((v) => v.labels.operation === operation)?.value ?? 0;
      const presenceFailuresBefore = await handled('presence.read');
      redis.set(mode);
      const completion = await timed(() =>
        http.call('POST', '/v1/completions', {
          token: key,
          body: { model, prompt: 'hi', max_tokens: 1 },
        }),
      );
      expect(completion.status).toBe(503);
      expect(isOpenAiError(completion.body)).toBe(true);
      expect(Number(completion.headers['retry-after'])).toBeGreaterThan(0);
      expect(completion.ms).toBeLessThan(ANSWER_WITHIN_MS);
      const workers = await timed(() => asAdmin('GET', '/admin/v1/workers'));
      expect(workers.status).toBe(503);
      expect(isOpenAiError(workers.body)).toBe(true);
      expect(workers.ms).toBeLessThan(ANSWER_WITHIN_MS);
      // The operator sees the outage on /metrics, not only the clients in their 503s.
      expect(await handled('presence.read')).toBeGreaterThan(
        presenceFailuresBefore,
      );
      redis.set('up');
      // ioredis reconnects within its capped backoff (one second): no restart.
      const deadline = Date.now() + 5_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await asAdmin('GET', '/admin/v1/workers')).status;
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    });
  });
});
