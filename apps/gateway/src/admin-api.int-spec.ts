import { randomUUID } from 'node:crypto';
import {
  decodeModelControlMessage,
  MODEL_CONTROL_CHANNEL,
  MODEL_DESIRED_STATE_KEY,
  type ModelControlMessage,
  removeWorkerPresence,
  writeWorkerPresence,
} from '@marquee/contracts/queue';
import { costMicros } from '@marquee/gateway/util-billing';
import { Redis } from 'ioredis';
import { HttpClient, type Reply } from './testing/http';
import {
  type AdminRoute,
  adminRoutes,
  type IdKind,
  isDocsAsset,
  ROUTES,
  tenantRoutes,
} from './testing/route-table';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const day = (offsetDays: number, base = new Date()) =>
  new Date(base.getTime() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const thisMonthStart = () => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
};
const lastMonthDay = (d: number) => {
  const start = thisMonthStart();
  return new Date(
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, d, 12),
  );
};
const LAST_MONTH = lastMonthDay(1).toISOString().slice(0, 7);
const PRICES = { in: 150_000n, out: 600_000n };

describe('gateway admin and tenant API (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let admin: string;
  /** Every secret minted, with the transcript index of the one response allowed to show it. */
  const secrets: { secret: string; shownAt: number }[] = [];
  const f = {} as {
    plan: string;
    tenantA: string;
    tenantB: string;
    keyA: { id: string; key: string };
    keyB: { id: string; key: string };
    pub: string;
    pub2: string;
    bPrivate: { id: string; name: string };
    bPrivateEmbedding: string;
    invoiceB: string;
    tokens: Record<'read' | 'write' | 'billing', { id: string; token: string }>;
    spareToken: string;
  };

  const call = (...args: Parameters<HttpClient['call']>) => http.call(...args);
  const asAdmin = (
    method: Parameters<HttpClient['call']>[0],
    url: string,
    body?: unknown,
  ) => call(method, url, { token: admin, body });
  const remember = (secret: string) =>
    secrets.push({ secret, shownAt: http.transcript.length - 1 });

  async function created(reply: Reply): Promise<Reply> {
    expect([200, 201]).toContain(reply.status);
    return reply;
  }
  async function mintKey(tenantId: string, body: object = { name: 'k' }) {
    const reply = await created(
      await asAdmin('POST', `/admin/v1/tenants/${tenantId}/keys`, body),
    );
    remember(reply.body.key);
    return { id: reply.body.id as string, key: reply.body.key as string };
  }
  async function mintAdminToken(scopes: string[]) {
    const reply = await created(
      await asAdmin('POST', '/admin/v1/admin-tokens', {
        name: scopes.join('+'),
        scopes,
      }),
    );
    remember(reply.body.token);
    return { id: reply.body.id as string, token: reply.body.token as string };
  }
  /** Tenant B's object of each kind: what tenant A must never reach. */
  const idOf = (kind: IdKind): string =>
    ({
      tenant: f.tenantB,
      key: f.keyB.id,
      plan: f.plan,
      model: f.bPrivate.id,
      invoice: f.invoiceB,
      adminToken: f.spareToken,
    })[kind];
  const urlFor = (route: AdminRoute, id?: string) =>
    route.url.replace(':id', id ?? (route.id ? idOf(route.id) : ''));

  async function usageRow(
    tenantId: string,
    apiKeyId: string,
    modelId: string,
    createdAt: Date,
    promptTokens: number,
    completionTokens: number,
  ) {
    await gw.prisma.usageRecord.create({
      data: {
        requestId: `req_${randomUUID()}`,
        tenantId,
        apiKeyId,
        modelId,
        endpoint: 'completions',
        promptTokens,
        completionTokens,
        finishReason: 'length',
        costMicros: costMicros({
          promptTokens,
          completionTokens,
          inputPricePerMTokMicros: PRICES.in,
          outputPricePerMTokMicros: PRICES.out,
        }),
        createdAt,
      },
    });
  }

  beforeAll(async () => {
    gw = await startTestGateway('admin_api');
    http = new HttpClient(gw.app);
    admin = gw.adminToken;
    f.plan = (
      await created(
        await asAdmin('POST', '/admin/v1/plans', {
          name: 'standard',
          requests_per_minute: 600,
          tokens_per_minute: 100_000,
          max_concurrent_requests: 8,
          monthly_budget_micros: '5000000',
        }),
      )
    ).body.id;
    f.tenantA = (
      await asAdmin('POST', '/admin/v1/tenants', {
        name: 'Studio A',
        plan_id: f.plan,
      })
    ).body.id;
    f.tenantB = (
      await asAdmin('POST', '/admin/v1/tenants', { name: 'Studio B' })
    ).body.id;
    const model = (name: string, extra: object = {}) =>
      asAdmin('POST', '/admin/v1/models', {
        name,
        artifact_path: `/models/${name}`,
        context_length: 64,
        input_price_per_mtok_micros: PRICES.in.toString(),
        output_price_per_mtok_micros: Number(PRICES.out),
        ...extra,
      });
    f.pub = (await created(await model('pub'))).body.id;
    f.pub2 = (await created(await model('pub2'))).body.id;
    const priv = (
      await created(await model('b-private', { tenant_id: f.tenantB }))
    ).body;
    f.bPrivate = { id: priv.id, name: priv.name };
    f.bPrivateEmbedding = (
      await created(
        await model('b-private-embedding', {
          tenant_id: f.tenantB,
          task: 'embedding',
        }),
      )
    ).body.name;
    f.keyA = await mintKey(f.tenantA, { name: 'a' });
    f.keyB = await mintKey(f.tenantB, { name: 'b' });
    f.tokens = {
      read: await mintAdminToken(['admin:read']),
      write: await mintAdminToken(['admin:write']),
      billing: await mintAdminToken(['billing']),
    };
    f.spareToken = (await mintAdminToken(['admin:read'])).id;

    const edge = new Date(thisMonthStart().getTime() - 1);
    await usageRow(f.tenantA, f.keyA.id, f.pub, lastMonthDay(3), 100, 50);
    await usageRow(f.tenantA, f.keyA.id, f.pub, lastMonthDay(10), 7, 3);
    await usageRow(f.tenantA, f.keyA.id, f.pub2, lastMonthDay(10), 1_000, 1);
    await usageRow(f.tenantA, f.keyA.id, f.pub, edge, 1, 1);
    await usageRow(f.tenantA, f.keyA.id, f.pub, thisMonthStart(), 11, 13);
    await usageRow(
      f.tenantB,
      f.keyB.id,
      f.bPrivate.id,
      lastMonthDay(5),
      999,
      999,
    );
    await usageRow(f.tenantB, f.keyB.id, f.bPrivate.id, new Date(), 5, 5);
    f.invoiceB = (
      await created(
        await asAdmin('POST', `/admin/v1/tenants/${f.tenantB}/invoices`, {
          month: LAST_MONTH,
        }),
      )
    ).body.id;
  });

  afterAll(async () => {
    await gw?.close();
  });

  describe('route table', () => {
    it('lists every route the gateway registers, and only those', () => {
      const key = (r: { method: string; url: string }) =>
        `${r.method} ${r.url}`;
      const registered = new Set(
        gw.routes.filter((r) => !isDocsAsset(r.url)).map(key),
      );
      const listed = new Set(
        ROUTES.filter((r) => !isDocsAsset(r.url)).map(key),
      );
      expect([...registered].filter((r) => !listed.has(r))).toEqual([]);
      expect([...listed].filter((r) => !registered.has(r))).toEqual([]);
    });
  });

  describe('BOLA matrix', () => {
    it.each(adminRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))(
      "refuses tenant A's key on %s with 403 permission_error, even for B's ids",
      async (_, route) => {
        const reply = await call(route.method, urlFor(route), {
          token: f.keyA.key,
          body: route.body,
        });
        expect(reply.status).toBe(403);
        expect(reply.body.error.type).toBe('permission_error');
        expect(reply.text).not.toContain(f.tenantB);
        expect(reply.text).not.toContain('Studio B');
      },
    );

    it.each(adminRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))(
      '%s: 401 without a token or with an unknown admin token',
      async (_, route) => {
        const none = await call(route.method, urlFor(route), {
          body: route.body,
        });
        expect(none.status).toBe(401);
        const unknown = await call(route.method, urlFor(route), {
          token: `mqa_${randomUUID().replace(/-/g, '')}`,
          body: route.body,
        });
        expect(unknown.status).toBe(401);
        expect(unknown.body.error.code).toBe('invalid_admin_token');
      },
    );

    it.each(adminRoutes.map((r) => [`${r.method} ${r.url}`, r] as const))(
      '%s: admin tokens without its scope get 403 insufficient_scope; tokens with it get through',
      async (_, route) => {
        for (const [scope, { token }] of [
          ['admin:read', f.tokens.read],
          ['admin:write', f.tokens.write],
          ['billing', f.tokens.billing],
        ] as const) {
          // A random id: an admitted call answers 404 (or 400/200) without touching fixtures.
          const reply = await call(route.method, urlFor(route, randomUUID()), {
            token,
            body: {},
          });
          if ((route.access as string[]).includes(scope)) {
            expect([200, 400, 404]).toContain(reply.status);
          } else {
            expect(reply.status).toBe(403);
            expect(reply.body.error.code).toBe('insufficient_scope');
          }
        }
      },
    );

    it.each(
      adminRoutes
        .filter((r) => r.id)
        .map((r) => [`${r.method} ${r.url}`, r] as const),
    )('%s: unknown and malformed ids are 404, never 500', async (_, route) => {
      for (const id of [randomUUID(), 'not-a-uuid', '1', "x' OR '1'='1"]) {
        const reply = await asAdmin(
          route.method,
          urlFor(route, encodeURIComponent(id)),
          route.body,
        );
        expect(reply.status).toBe(404);
        expect(reply.body.error.type).toBe('invalid_request_error');
      }
    });

    it.each(
      adminRoutes
        .filter((r) => r.method === 'POST' || r.method === 'PATCH')
        .map((r) => [`${r.method} ${r.url}`, r] as const),
    )(
      '%s: malformed bodies get 4xx in OpenAI shape, never 500',
      async (_, route) => {
        const url = urlFor(route, randomUUID());
        for (const raw of [
          'null',
          '[]',
          '"text"',
          '{"name":{"$gt":""}}',
          '{bad json',
          '{"amount_micros":1e400,"month":7}',
        ]) {
          const reply = await call(route.method, url, { token: admin, raw });
          expect(reply.status).toBeGreaterThanOrEqual(400);
          expect(reply.status).toBeLessThan(500);
          expect(reply.body.error).toEqual(
            expect.objectContaining({ type: expect.any(String) }),
          );
        }
      },
    );

    it.each(
      tenantRoutes
        .filter((r) => r.model)
        .map((r) => [`${r.method} ${r.url}`, r] as const),
    )(
      "%s: tenant A naming B's private model gets 404, and tenant fields it adds are refused",
      async (_, route) => {
        const url =
          route.model === 'path'
            ? route.url.replace(':model', f.bPrivate.name)
            : route.url;
        const body =
          route.model === 'body'
            ? {
                ...route.body,
                model:
                  route.task === 'embedding'
                    ? f.bPrivateEmbedding
                    : f.bPrivate.name,
              }
            : undefined;
        const reply = await call(route.method, url, {
          token: f.keyA.key,
          body,
        });
        expect(reply.status).toBe(404);
        expect(reply.body.error.code).toBe('model_not_found');
        const owner = await call(route.method, url, {
          token: f.keyB.key,
          body,
        });
        expect(owner.status).not.toBe(404);
        if (body === undefined) return;
        // A body claiming B's tenant is refused before any model is looked up.
        const spoofed = await call(route.method, url, {
          token: f.keyA.key,
          body: {
            tenant_id: f.tenantB,
            tenantId: f.tenantB,
            plan_id: f.plan,
            monthly_budget_micros: '999999999',
            ...body,
          },
        });
        expect(spoofed.status).toBe(400);
        expect(spoofed.body.error).toMatchObject({
          param: 'tenant_id',
          code: 'unknown_parameter',
        });
      },
    );

    it("GET /v1/models lists public models and the caller's private ones only", async () => {
      const names = async (key: string) =>
        (
          (await call('GET', '/v1/models', { token: key })).body.data as {
            id: string;
          }[]
        ).map((m) => m.id);
      expect(await names(f.keyA.key)).toEqual(['pub', 'pub2']);
      expect(await names(f.keyB.key)).toEqual([
        'b-private',
        'b-private-embedding',
        'pub',
        'pub2',
      ]);
    });

    it('GET /v1/usage takes no tenant, plan or budget parameter', async () => {
      for (const param of [
        `tenant_id=${f.tenantB}`,
        `tenantId=${f.tenantB}`,
        `plan_id=${f.plan}`,
        'monthly_budget_micros=1',
      ]) {
        const reply = await call('GET', `/v1/usage?${param}`, {
          token: f.keyA.key,
        });
        expect(reply.status).toBe(400);
        expect(reply.body.error.param).toBe(param.split('=')[0]);
      }
    });
  });

  describe('tenants and keys', () => {
    it('creates a key whose secret is shown once; reads show only its prefix', async () => {
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
      const reply = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/keys`,
        {
          name: 'render farm',
          allowed_models: ['pub'],
          expires_at: expiresAt,
        },
      );
      expect(reply.status).toBe(201);
      remember(reply.body.key);
      expect(reply.body).toMatchObject({
        object: 'api_key',
        tenant_id: f.tenantA,
        name: 'render farm',
        allowed_models: ['pub'],
        expires_at: expiresAt,
        revoked: false,
      });
      expect(reply.body.key).toMatch(/^mq_/);
      expect(reply.body.key.startsWith(reply.body.prefix)).toBe(true);
      const listed = await asAdmin(
        'GET',
        `/admin/v1/tenants/${f.tenantA}/keys`,
      );
      const entry = listed.body.data.find(
        (k: { id: string }) => k.id === reply.body.id,
      );
      expect(entry.prefix).toBe(reply.body.prefix);
      expect(entry).not.toHaveProperty('key');
      expect(entry).not.toHaveProperty('hash');
      expect(listed.text).not.toContain(reply.body.key);
    });

    it('refuses an allowed model the tenant cannot use and an expiry in the past, naming the field', async () => {
      const privateOfB = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/keys`,
        {
          name: 'k',
          allowed_models: [f.bPrivate.name],
        },
      );
      expect(privateOfB.status).toBe(400);
      expect(privateOfB.body.error.param).toBe('allowed_models');
      const past = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/keys`,
        {
          name: 'k',
          expires_at: '2001-01-01T00:00:00Z',
        },
      );
      expect(past.status).toBe(400);
      expect(past.body.error.param).toBe('expires_at');
      const tenantField = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/keys`,
        {
          name: 'k',
          tenant_id: f.tenantB,
        },
      );
      expect(tenantField.status).toBe(400);
      expect(tenantField.body.error.param).toBe('tenant_id');
    });

    it('rotates a key: the new secret works at once, the old one only for its grace period', async () => {
      const original = await mintKey(f.tenantA);
      const usage = (key: string) =>
        call('GET', '/v1/usage', { token: key }).then((r) => r.status);
      const first = await asAdmin(
        'POST',
        `/admin/v1/keys/${original.id}/rotate`,
        { grace_period_seconds: 3600 },
      );
      expect(first.status).toBe(200);
      remember(first.body.key);
      expect(first.body.id).toBe(original.id);
      expect(first.body.key).not.toBe(original.key);
      expect(Date.parse(first.body.previous_secret_expires_at)).toBeGreaterThan(
        Date.now() + 3_500_000,
      );
      expect(await usage(first.body.key)).toBe(200);
      expect(await usage(original.key)).toBe(200);

      const second = await asAdmin(
        'POST',
        `/admin/v1/keys/${original.id}/rotate`,
        { grace_period_seconds: 0 },
      );
      remember(second.body.key);
      expect(await usage(second.body.key)).toBe(200);
      expect(await usage(first.body.key)).toBe(401);
      expect(await usage(original.key)).toBe(401);

      expect(
        (await asAdmin('DELETE', `/admin/v1/keys/${original.id}`)).body.revoked,
      ).toBe(true);
      expect(await usage(second.body.key)).toBe(401);
      const again = await asAdmin(
        'POST',
        `/admin/v1/keys/${original.id}/rotate`,
        {},
      );
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('key_revoked');
    });

    it("refuses a suspended tenant's keys with 401 invalid_api_key until it is reactivated", async () => {
      const tenant = (
        await asAdmin('POST', '/admin/v1/tenants', { name: 'Studio C' })
      ).body.id;
      const key = await mintKey(tenant);
      expect((await call('GET', '/v1/usage', { token: key.key })).status).toBe(
        200,
      );
      const suspended = await asAdmin(
        'POST',
        `/admin/v1/tenants/${tenant}/suspend`,
      );
      expect(suspended.body.status).toBe('suspended');
      const refused = await call('GET', '/v1/usage', { token: key.key });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('invalid_api_key');
      expect(
        (await asAdmin('POST', `/admin/v1/tenants/${tenant}/reactivate`)).body
          .status,
      ).toBe('active');
      expect((await call('GET', '/v1/usage', { token: key.key })).status).toBe(
        200,
      );
    });

    it('updates a tenant and its plan; an unknown plan is a 400 naming plan_id; a plan in use cannot be deleted', async () => {
      const tenant = (
        await asAdmin('POST', '/admin/v1/tenants', { name: 'Studio D' })
      ).body.id;
      const renamed = await asAdmin('PATCH', `/admin/v1/tenants/${tenant}`, {
        name: 'Studio D2',
        plan_id: f.plan,
      });
      expect(renamed.body).toMatchObject({
        name: 'Studio D2',
        plan_id: f.plan,
      });
      const unknownPlan = await asAdmin(
        'PATCH',
        `/admin/v1/tenants/${tenant}`,
        { plan_id: randomUUID() },
      );
      expect(unknownPlan.status).toBe(400);
      expect(unknownPlan.body.error.param).toBe('plan_id');
      const status = await asAdmin('PATCH', `/admin/v1/tenants/${tenant}`, {
        status: 'active',
      });
      expect(status.status).toBe(400);
      expect(status.body.error.param).toBe('status');
      const inUse = await asAdmin('DELETE', `/admin/v1/plans/${f.plan}`);
      expect(inUse.status).toBe(409);
      expect(inUse.body.error.code).toBe('in_use');
      expect(
        (
          await asAdmin('PATCH', `/admin/v1/tenants/${tenant}`, {
            plan_id: null,
          })
        ).body.plan_id,
      ).toBeNull();
      const duplicate = await asAdmin('POST', '/admin/v1/plans', {
        name: 'standard',
        requests_per_minute: 1,
        tokens_per_minute: 1,
        max_concurrent_requests: 1,
      });
      expect(duplicate.status).toBe(409);
    });

    it('changes and deletes an unused plan', async () => {
      const plan = (
        await asAdmin('POST', '/admin/v1/plans', {
          name: 'trial',
          requests_per_minute: 10,
          tokens_per_minute: 1000,
          max_concurrent_requests: 1,
          fairness_weight: 2,
        })
      ).body;
      expect(plan).toMatchObject({
        monthly_budget_micros: null,
        priority_tier: 5,
        fairness_weight: 2,
      });
      const changed = await asAdmin('PATCH', `/admin/v1/plans/${plan.id}`, {
        monthly_budget_micros: 12_000_000,
      });
      expect(changed.body.monthly_budget_micros).toBe('12000000');
      expect(
        (await asAdmin('DELETE', `/admin/v1/plans/${plan.id}`)).body.deleted,
      ).toBe(true);
      expect((await asAdmin('GET', `/admin/v1/plans/${plan.id}`)).status).toBe(
        404,
      );
    });
  });

  describe('prices and credits', () => {
    it('takes prices as JSON integers or digit strings and returns them as strings', async () => {
      const reply = await asAdmin('PATCH', `/admin/v1/models/${f.pub2}`, {
        input_price_per_mtok_micros: '9223372036854775807',
        output_price_per_mtok_micros: 2500,
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        input_price_per_mtok_micros: '9223372036854775807',
        output_price_per_mtok_micros: '2500',
      });
      const restored = await asAdmin('PATCH', `/admin/v1/models/${f.pub2}`, {
        input_price_per_mtok_micros: Number(PRICES.in),
        output_price_per_mtok_micros: PRICES.out.toString(),
      });
      expect(restored.body.input_price_per_mtok_micros).toBe('150000');
    });

    it.each([
      1.5,
      -1,
      '1.5',
      '1e6',
      '9223372036854775808',
      'abc',
      true,
      null,
      2 ** 60,
    ])('refuses the price %p with a 400 naming the field', async (value) => {
      const reply = await asAdmin('PATCH', `/admin/v1/models/${f.pub2}`, {
        output_price_per_mtok_micros: value,
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error.param).toBe('output_price_per_mtok_micros');
    });

    it('appends a top-up of a positive integer of micro-units and reports the balance as a string', async () => {
      const before = (
        await asAdmin('GET', `/admin/v1/tenants/${f.tenantA}/credits`)
      ).body.balance_micros;
      const topUp = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/credits`,
        {
          amount_micros: '25000000',
          note: 'welcome',
        },
      );
      expect(topUp.status).toBe(201);
      expect(topUp.body).toMatchObject({
        kind: 'topup',
        amount_micros: '25000000',
        note: 'welcome',
      });
      expect(BigInt(topUp.body.balance_micros)).toBe(
        BigInt(before) + 25_000_000n,
      );
      for (const amount of [0, -5, 0.5, '10.0']) {
        const bad = await asAdmin(
          'POST',
          `/admin/v1/tenants/${f.tenantA}/credits`,
          { amount_micros: amount },
        );
        expect(bad.status).toBe(400);
        expect(bad.body.error.param).toBe('amount_micros');
      }
      const list = await asAdmin(
        'GET',
        `/admin/v1/tenants/${f.tenantA}/credits`,
      );
      expect(list.body.data[0]).toMatchObject({
        id: topUp.body.id,
        amount_micros: '25000000',
      });
    });
  });

  describe('usage', () => {
    const range = `start=${LAST_MONTH}-01&end=${day(0)}`;

    it("GET /v1/usage returns the caller's own usage: totals and a row per model per day", async () => {
      const reply = await call('GET', `/v1/usage?${range}`, {
        token: f.keyA.key,
      });
      expect(reply.status).toBe(200);
      const rows = await gw.prisma.usageRecord.findMany({
        where: { tenantId: f.tenantA },
      });
      expect(reply.body.totals).toEqual({
        requests: rows.length,
        prompt_tokens: String(rows.reduce((n, r) => n + r.promptTokens, 0)),
        completion_tokens: String(
          rows.reduce((n, r) => n + r.completionTokens, 0),
        ),
        cost_micros: String(rows.reduce((n, r) => n + r.costMicros, 0n)),
      });
      expect(reply.body.data).toContainEqual({
        day: lastMonthDay(10).toISOString().slice(0, 10),
        model: 'pub2',
        requests: 1,
        prompt_tokens: '1000',
        completion_tokens: '1',
        cost_micros: '151',
      });
      expect(
        reply.body.data.map((r: { model: string }) => r.model),
      ).not.toContain('b-private');
      expect(reply.text).not.toContain(f.tenantB);
    });

    it.each([
      ['start=2026-13-01', 'start'],
      ['start=2026-02-30', 'start'],
      ['end=yesterday', 'end'],
      ['start=2026-05-02&end=2026-05-01', 'end'],
      ['start=2020-01-01&end=2026-01-01', 'end'],
      ['start=2026-01-01&start=2026-01-02', 'start'],
    ])('GET /v1/usage?%s is a 400 naming %s', async (query, param) => {
      const reply = await call('GET', `/v1/usage?${query}`, {
        token: f.keyA.key,
      });
      expect(reply.status).toBe(400);
      expect(reply.body.error.param).toBe(param);
    });

    it('answers admins by tenant, key, model and day, with totals', async () => {
      const byTenant = await call(
        'GET',
        `/admin/v1/usage?${range}&group_by=tenant`,
        { token: f.tokens.billing.token },
      );
      expect(byTenant.status).toBe(200);
      expect(
        byTenant.body.data
          .map((r: { tenant_id: string }) => r.tenant_id)
          .sort(),
      ).toEqual([f.tenantA, f.tenantB].sort());
      const filtered = await call(
        'GET',
        `/admin/v1/usage?${range}&tenant_id=${f.tenantA}&api_key_id=${f.keyA.id}&model=pub&group_by=api_key,model`,
        { token: f.tokens.read.token },
      );
      expect(filtered.body.data).toEqual([
        expect.objectContaining({
          api_key_id: f.keyA.id,
          model: 'pub',
          requests: 4,
          prompt_tokens: '119',
        }),
      ]);
      const totalsOnly = await asAdmin(
        'GET',
        `/admin/v1/usage?${range}&group_by=`,
      );
      expect(totalsOnly.body.data).toEqual([]);
      expect(totalsOnly.body.totals.requests).toBe(7);
      const bad = await asAdmin('GET', `/admin/v1/usage?group_by=day,planet`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.param).toMatch(/^group_by/);
    });
  });

  describe('invoices', () => {
    it("bills a closed month's usage per model; the total is the sum of the usage costs; generating again changes nothing", async () => {
      const first = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/invoices`,
        { month: LAST_MONTH },
      );
      expect(first.status).toBe(201);
      const start = new Date(`${LAST_MONTH}-01T00:00:00Z`);
      const rows = await gw.prisma.usageRecord.findMany({
        where: {
          tenantId: f.tenantA,
          createdAt: { gte: start, lt: thisMonthStart() },
        },
      });
      expect(rows).toHaveLength(4);
      expect(first.body.total_micros).toBe(
        String(rows.reduce((n, r) => n + r.costMicros, 0n)),
      );
      expect(first.body.lines).toEqual([
        {
          model: 'pub',
          requests: 3,
          prompt_tokens: '108',
          completion_tokens: '54',
          amount_micros: String(45n + 3n + 1n),
        },
        {
          model: 'pub2',
          requests: 1,
          prompt_tokens: '1000',
          completion_tokens: '1',
          amount_micros: '151',
        },
      ]);
      const again = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/invoices`,
        { month: LAST_MONTH },
      );
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const concurrent = await Promise.all(
        [1, 2, 3].map(() =>
          asAdmin('POST', `/admin/v1/tenants/${f.tenantA}/invoices`, {
            month: '2020-01',
          }),
        ),
      );
      expect(new Set(concurrent.map((r) => r.body.id)).size).toBe(1);
      expect(concurrent.map((r) => r.status).sort()).toEqual([200, 200, 201]);
      const listed = await asAdmin(
        'GET',
        `/admin/v1/tenants/${f.tenantA}/invoices`,
      );
      expect(listed.body.data.map((i: { month: string }) => i.month)).toEqual([
        LAST_MONTH,
        '2020-01',
      ]);
    });

    it('refuses to invoice a month that has not ended', async () => {
      const month = new Date().toISOString().slice(0, 7);
      const reply = await asAdmin(
        'POST',
        `/admin/v1/tenants/${f.tenantA}/invoices`,
        { month },
      );
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatchObject({
        param: 'month',
        code: 'month_not_closed',
      });
      expect(
        (
          await asAdmin('POST', `/admin/v1/tenants/${f.tenantA}/invoices`, {
            month: '2026-1',
          })
        ).status,
      ).toBe(400);
    });

    it('downloads an invoice as well-formed CSV whose lines add up to the total', async () => {
      const invoice = (
        await asAdmin('POST', `/admin/v1/tenants/${f.tenantA}/invoices`, {
          month: LAST_MONTH,
        })
      ).body;
      const reply = await asAdmin(
        'GET',
        `/admin/v1/invoices/${invoice.id}/csv`,
      );
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/csv/);
      expect(reply.headers['content-disposition']).toContain(
        `invoice-${LAST_MONTH}`,
      );
      expect(reply.text.endsWith('\r\n')).toBe(true);
      const lines = reply.text
        .trimEnd()
        .split('\r\n')
        .map((l) => l.split(','));
      expect(lines[0]).toEqual([
        'month',
        'model',
        'requests',
        'prompt_tokens',
        'completion_tokens',
        'amount_micros',
      ]);
      expect(lines.every((l) => l.length === 6)).toBe(true);
      const body = lines.slice(1, -1);
      const total = lines[lines.length - 1];
      expect(body.map((l) => l[1])).toEqual(['pub', 'pub2']);
      expect(total[1]).toBe('TOTAL');
      expect(total[5]).toBe(invoice.total_micros);
      expect(body.reduce((n, l) => n + BigInt(l[5]), 0n)).toBe(
        BigInt(total[5]),
      );
    });
  });

  describe('admin tokens', () => {
    it('lets only the bootstrap token manage admin tokens, and a revoked token stops at once', async () => {
      const token = await mintAdminToken(['admin:read', 'admin:write']);
      expect(token.token).toMatch(/^mqa_/);
      expect(
        (await call('GET', '/admin/v1/tenants', { token: token.token })).status,
      ).toBe(200);
      const manage = await call('POST', '/admin/v1/admin-tokens', {
        token: token.token,
        body: { name: 'escalate', scopes: ['billing'] },
      });
      expect(manage.status).toBe(403);
      const listed = await asAdmin('GET', '/admin/v1/admin-tokens');
      expect(listed.text).not.toContain(token.token);
      expect(
        listed.body.data.find((t: { id: string }) => t.id === token.id).scopes,
      ).toEqual(['admin:read', 'admin:write']);
      expect(
        (await asAdmin('DELETE', `/admin/v1/admin-tokens/${token.id}`)).body
          .revoked,
      ).toBe(true);
      expect(
        (await call('GET', '/admin/v1/tenants', { token: token.token })).status,
      ).toBe(401);
      const badScope = await asAdmin('POST', '/admin/v1/admin-tokens', {
        name: 'x',
        scopes: ['root'],
      });
      expect(badScope.status).toBe(400);
      expect(badScope.body.error.param).toBe('scopes.0');
    });
  });

  describe('model loading and workers', () => {
    const name = `load-${randomUUID().slice(0, 8)}`;
    const workerId = `int-spec-${randomUUID()}`;
    let redis: Redis;
    let subscriber: Redis;
    let modelId: string;

    beforeAll(async () => {
      redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      subscriber = redis.duplicate();
      await subscriber.subscribe(MODEL_CONTROL_CHANNEL);
      modelId = (
        await created(
          await asAdmin('POST', '/admin/v1/models', {
            name,
            artifact_path: `/models/${name}`,
            context_length: 64,
          }),
        )
      ).body.id;
    });

    afterAll(async () => {
      await redis?.hdel(MODEL_DESIRED_STATE_KEY, name);
      if (redis) await removeWorkerPresence(redis, workerId);
      subscriber?.disconnect();
      redis?.disconnect();
    });

    /** The next control message for this spec's model, as a worker would receive it. */
    const nextMessage = () =>
      new Promise<ModelControlMessage | null>((resolve) => {
        const onMessage = (_: string, raw: string) => {
          const message = decodeModelControlMessage(raw);
          if (message?.name !== name) return;
          subscriber.off('message', onMessage);
          resolve(message);
        };
        subscriber.on('message', onMessage);
      });

    it('load and unload publish the model to the named workers and store it as the desired state', async () => {
      const loadSeen = nextMessage();
      const load = await asAdmin('POST', `/admin/v1/models/${modelId}/load`, {
        worker_ids: [workerId],
      });
      expect(load.status).toBe(202);
      expect(load.body).toMatchObject({
        id: modelId,
        name,
        desired_state: 'loaded',
        worker_ids: [workerId],
      });
      expect(load.body.workers_notified).toBeGreaterThanOrEqual(1);
      expect(await loadSeen).toMatchObject({
        action: 'load',
        name,
        task: 'text_generation',
        artifactPath: `/models/${name}`,
        workerIds: [workerId],
      });
      expect(
        decodeModelControlMessage(
          (await redis.hget(MODEL_DESIRED_STATE_KEY, name)) ?? '',
        ),
      ).toMatchObject({ action: 'load', name });

      const unloadSeen = nextMessage();
      const unload = await asAdmin(
        'POST',
        `/admin/v1/models/${modelId}/unload`,
      );
      expect(unload.status).toBe(202);
      expect(unload.body).toMatchObject({
        desired_state: 'unloaded',
        worker_ids: null,
      });
      expect(await unloadSeen).toMatchObject({ action: 'unload', name });
      expect(
        decodeModelControlMessage(
          (await redis.hget(MODEL_DESIRED_STATE_KEY, name)) ?? '',
        ),
      ).toMatchObject({ action: 'unload', name });
    });

    it('refuses to load a model whose name cannot name a queue, with 400 invalid_model_name', async () => {
      const odd = (
        await created(
          await asAdmin('POST', '/admin/v1/models', {
            name: `Odd/${name}`,
            artifact_path: '/models/odd',
            context_length: 8,
          }),
        )
      ).body.id;
      const reply = await asAdmin('POST', `/admin/v1/models/${odd}/load`);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('invalid_model_name');
    });

    it('lists live workers with the models each serves and the loads each refused', async () => {
      const startedAt = Date.now();
      await writeWorkerPresence(
        redis,
        {
          workerId,
          models: [name, 'pub'],
          executionProvider: 'cpu',
          startedAt,
          modelErrors: { other: 'outside MODELS_DIR' },
        },
        30,
      );
      const reply = await call('GET', '/admin/v1/workers', {
        token: f.tokens.read.token,
      });
      expect(reply.status).toBe(200);
      expect(reply.body.object).toBe('list');
      expect(
        reply.body.data.find((w: { id: string }) => w.id === workerId),
      ).toEqual({
        id: workerId,
        object: 'worker',
        models: [name, 'pub'].sort(),
        execution_provider: 'cpu',
        started_at: new Date(startedAt).toISOString(),
        model_errors: { other: 'outside MODELS_DIR' },
      });
    });
  });

  describe('OpenAPI', () => {
    it('documents every /v1 and /admin/v1 route at /docs/json and serves Swagger UI at /docs', async () => {
      const doc = await call('GET', '/docs/json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toMatch(/^3\./);
      for (const route of ROUTES.filter((r) => r.kind !== 'public')) {
        const path = route.url.replace(/:(\w+)/g, '{$1}');
        expect(
          doc.body.paths[path]?.[route.method.toLowerCase()],
        ).toBeDefined();
      }
      expect(
        doc.body.paths['/admin/v1/models'].post.requestBody.content[
          'application/json'
        ].schema.properties.input_price_per_mtok_micros,
      ).toBeDefined();
      const ui = await call('GET', '/docs');
      expect(ui.status).toBe(200);
      expect(String(ui.headers['content-type'])).toContain('text/html');
    });
  });

  describe('audit log and secrets', () => {
    it('records every admin write route with its actor, and no secret in the details', async () => {
      await call('PATCH', `/admin/v1/tenants/${f.tenantB}`, {
        token: f.tokens.write.token,
        body: { name: 'Studio B' },
      });
      for (const route of adminRoutes.filter((r) => r.audit)) {
        const reply = await asAdmin(
          'GET',
          `/admin/v1/audit-log?action=${route.audit}&limit=5`,
        );
        expect({ route: route.url, found: reply.body.data.length > 0 }).toEqual(
          { route: route.url, found: true },
        );
      }
      const byToken = await asAdmin(
        'GET',
        `/admin/v1/audit-log?actor=${f.tokens.write.id}&action=tenant.update`,
      );
      expect(byToken.body.data[0]).toMatchObject({
        actor: f.tokens.write.id,
        target_type: 'tenant',
        target_id: f.tenantB,
        details: { body: { name: 'Studio B' } },
      });
      const keyCreated = await asAdmin(
        'GET',
        `/admin/v1/audit-log?action=api_key.create&target_id=${f.keyA.id}`,
      );
      expect(keyCreated.body.data[0]).toMatchObject({
        actor: 'bootstrap',
        details: { params: { id: f.tenantA } },
      });
      const rows = await gw.prisma.auditLog.findMany();
      const stored = JSON.stringify(rows);
      for (const { secret } of secrets) expect(stored).not.toContain(secret);
      expect(stored).not.toContain(admin);
    });

    it('never shows a secret in any response but the one that created it, errors included', () => {
      expect(secrets.length).toBeGreaterThan(5);
      const leaks = secrets.flatMap(({ secret, shownAt }) =>
        http.transcript
          .map((t, i) => ({ ...t, i }))
          .filter((t) => t.i !== shownAt && t.text.includes(secret))
          .map((t) => t.label),
      );
      expect(leaks).toEqual([]);
      expect(http.transcript.filter((t) => t.text.includes(admin))).toEqual([]);
    });
  });
});
