import { MetricsServer } from '@marquee/gateway/feature-health';
import { HttpClient } from './testing/http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const sleepUntil = (time: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));

describe('security: metrics port, key expiry, key-scoped model lists (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let tenantId: string;

  const asAdmin = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    http.call(method, url, { token: gw.adminToken, body });
  const mintKey = async (body: object) => {
    const reply = await asAdmin(
      'POST',
      `/admin/v1/tenants/${tenantId}/keys`,
      body,
    );
    expect(reply.status).toBe(201);
    return reply.body.key as string;
  };

  beforeAll(async () => {
    gw = await startTestGateway('security');
    http = new HttpClient(gw.app);
    tenantId = (await asAdmin('POST', '/admin/v1/tenants', { name: 'sec' }))
      .body.id;
    for (const name of ['alpha', 'beta'])
      expect(
        (
          await asAdmin('POST', '/admin/v1/models', {
            name,
            artifact_path: `/models/${name}`,
            context_length: 64,
          })
        ).status,
      ).toBe(201);
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('serves /metrics on METRICS_PORT only: the API port answers 404', async () => {
    const onApi = await http.call('GET', '/metrics');
    expect(onApi.status).toBe(404);
    expect(onApi.body.error.code).toBe('unknown_url');
    const port = gw.app.get(MetricsServer).port;
    expect(port).toBeGreaterThan(0);
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain(
      'marquee_http_request_duration_seconds',
    );
    const other = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(other.status).toBe(404);
  });

  it('refuses a key with 401 invalid_api_key as soon as it expires, though it was just used', async () => {
    const expiresAt = Date.now() + 1_500;
    const key = await mintKey({
      name: 'short-lived',
      expires_at: new Date(expiresAt).toISOString(),
    });
    expect((await http.call('GET', '/v1/models', { token: key })).status).toBe(
      200,
    );
    await sleepUntil(expiresAt + 20);
    // Well inside the key cache's 5 s lifetime: the expiry alone must refuse it.
    const reply = await http.call('GET', '/v1/models', { token: key });
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe('invalid_api_key');
  });

  it("lists and retrieves only the models a key's allowed_models name", async () => {
    const limited = await mintKey({
      name: 'alpha only',
      allowed_models: ['alpha'],
    });
    const open = await mintKey({ name: 'any model' });
    const ids = async (key: string) =>
      (
        (await http.call('GET', '/v1/models', { token: key })).body.data as {
          id: string;
        }[]
      ).map((m) => m.id);
    expect(await ids(limited)).toEqual(['alpha']);
    expect(await ids(open)).toEqual(['alpha', 'beta']);
    expect(
      (await http.call('GET', '/v1/models/alpha', { token: limited })).status,
    ).toBe(200);
    const hidden = await http.call('GET', '/v1/models/beta', {
      token: limited,
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('model_not_found');
    expect(
      (await http.call('GET', '/v1/models/beta', { token: open })).status,
    ).toBe(200);
  });
});
