import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_DESIRED_STATE_KEY } from '@marquee/contracts/queue';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { makeCausalLm } from '@marquee/shared/model-maker';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { isOpenAiError } from './testing/raw-http';
import {
  type IdKind,
  type Method,
  ROUTES,
  type RouteCase,
} from './testing/route-table';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

/**
 * Property-based fuzzing of every route in the route table (admin routes included): bodies,
 * query strings, path parameters and headers. The property: no response is 500 or more, and
 * every error body is exactly OpenAI's shape.
 *
 * Two exemptions, both narrow. With no worker running, a POST to an inference route whose body
 * passed validation, whose model exists and whose admission succeeded is queued, and its queue
 * deadline (QUEUE_TIMEOUT_MS, 100 ms here) answers 503 `no_worker_available`: only that status
 * with that code on those routes is accepted. And `/health/ready` is a probe, not an API: it
 * answers 503 with its checks (not an error body) while no worker is live.
 */

/** Runs per route for each input kind; about 40 routes x (2 x 40 + headers) is a few thousand. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const INFERENCE_ROUTES = new Set([
  '/v1/completions',
  '/v1/chat/completions',
  '/v1/responses',
  '/v1/embeddings',
]);

// ---- arbitraries -------------------------------------------------------------------------

/** Strings a careless client or an attacker sends: NULs, lone surrogates, huge, odd, empty. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Any UTF-16 code unit, lone surrogates included.
  fc.string({
    unit: fc
      .integer({ min: 0, max: 0xffff })
      .map((c) => String.fromCharCode(c)),
    maxLength: 20,
  }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\ud83c\udfac',
    '%00',
    "'; DROP TABLE tenants; --",
    '../../etc/passwd',
    'x'.repeat(5000),
    '0000-01',
    '9999-12',
    '2024-02-30',
    '0000-01-01T00:00:00Z',
    '-1',
    '1e309',
    '99999999999999999999999',
    '__proto__',
    'constructor',
    'marquee-fuzz',
    '00000000-0000-0000-0000-000000000000',
  ),
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    2 ** 31,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    1e308,
    -1e308,
    0.5,
    129,
    2049,
  ),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
);

/** Any JSON value built from hostile leaves, a few levels deep. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
    ),
  }),
).value;

/** Fields the schemas know (so the fuzz reaches past "unknown field"), and a few they do not. */
const BODY_FIELDS = [
  'model',
  'prompt',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'top_k',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'input',
  'encoding_format',
  'dimensions',
  'user',
  'name',
  'plan_id',
  'allowed_models',
  'expires_at',
  'requests_per_minute',
  'tokens_per_minute',
  'grace_period_seconds',
  'artifact_path',
  'context_length',
  'version',
  'owned_by',
  'tenant_id',
  'task',
  'input_price_per_mtok_micros',
  'output_price_per_mtok_micros',
  'amount_micros',
  'note',
  'month',
  'scopes',
  'worker_ids',
  'monthly_budget_micros',
  'max_concurrent_requests',
  'priority_tier',
  'fairness_weight',
  'frobnicate',
];
const QUERY_FIELDS = [
  'limit',
  'after',
  'start',
  'end',
  'tenant_id',
  'api_key_id',
  'model',
  'group_by',
  'actor',
  'action',
  'target_type',
  'target_id',
  'since',
  'until',
  'x',
];

/** A chat message: the right shape with hostile parts, or anything at all. */
const message = fc.oneof(
  fc.record(
    {
      role: fc.oneof(
        fc.constantFrom('system', 'developer', 'user', 'assistant'),
        hostileString,
      ),
      content: fc.oneof(
        hostileString,
        fc.array(
          fc.record({ type: fc.constant('text'), text: hostileString }),
          {
            maxLength: 3,
          },
        ),
        hostileJson,
      ),
      name: hostileString,
    },
    { requiredKeys: ['role'] },
  ),
  hostileJson,
);

/** A field's value: usually hostile, sometimes shaped like what the field wants. */
const fieldValue = (field: string): fc.Arbitrary<unknown> =>
  field === 'messages'
    ? fc.oneof(fc.array(message, { maxLength: 4 }), hostileJson)
    : field === 'model'
      ? fc.oneof(fc.constant(MODEL), hostileString, hostileJson)
      : hostileJson;

/** A body: a valid one with some fields replaced or added, or any JSON at all. */
function bodyFor(route: RouteCase): fc.Arbitrary<unknown> {
  const valid: Record<string, unknown> = {
    ...('body' in route ? route.body : {}),
    ...(route.kind === 'tenant' && route.model === 'body'
      ? { model: route.task === 'embedding' ? EMBED_MODEL : MODEL }
      : {}),
  };
  const mutated = fc
    .uniqueArray(fc.constantFrom(...BODY_FIELDS), { maxLength: 4 })
    .chain((fields) =>
      fc.tuple(
        fc.constant(fields),
        fc.tuple(...fields.map((f) => fc.option(fieldValue(f)))),
      ),
    )
    .map(([fields, values]) => {
      const body = { ...valid };
      fields.forEach((field, i) => {
        // fc.option's null: drop the field.
        if (values[i] === null) delete body[field];
        else body[field] = values[i];
      });
      return body;
    });
  return fc.oneof(
    { arbitrary: mutated, weight: 4 },
    { arbitrary: fc.constant(valid), weight: 1 },
    { arbitrary: hostileJson, weight: 1 },
  );
}

/** A query string: known and unknown names with hostile values, some raw bad escapes. */
const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_FIELDS), hostileString),
      fc.oneof(
        hostileString.map(encode),
        fc.constantFrom(
          '%00',
          '%ED%A0%80',
          '%FF',
          '%',
          '%E0%A4%A',
          '%C0%80',
          '5',
          '0',
        ),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${v}`).join('&'));

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, as any client would send). */
function encode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

const headerValue = fc
  .string({ unit: 'binary-ascii', maxLength: 60 })
  .map((s) => s.replace(/[^\x20-\x7e\t]/g, ''));

// ---- the gateway under test ----------------------------------------------------------------

const MODEL = `fuzz-${process.pid}`;
const EMBED_MODEL = `fuzz-embed-${process.pid}`;

describe('fuzzing every route: bodies, queries, paths, headers (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let key: string;
  const ids = {} as Record<IdKind, string>;
  /** How many responses of each status the fuzz saw, printed at the end. */
  const statuses = new Map<number, number>();
  let modelDir = '';

  const inject = (opts: InjectOptions) => gw.app.inject(opts);
  const admin = async (method: Method, url: string, body?: unknown) => {
    const res = await inject({
      method,
      url,
      headers: { authorization: `Bearer ${gw.adminToken}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    if (res.statusCode >= 300)
      throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  beforeAll(async () => {
    gw = await startTestGateway('fuzz', { env: { QUEUE_TIMEOUT_MS: '100' } });
    // The fuzzed key's tenant: limits high enough that rate limits never hide deeper paths.
    const plan = await admin('POST', '/admin/v1/plans', {
      name: 'fuzz-unlimited',
      requests_per_minute: 1_000_000,
      tokens_per_minute: 1_000_000_000,
      max_concurrent_requests: 10_000,
    });
    const tenant = await admin('POST', '/admin/v1/tenants', {
      name: 'fuzz',
      plan_id: plan.id,
    });
    await admin('POST', `/admin/v1/tenants/${tenant.id}/credits`, {
      amount_micros: '1000000000000',
    });
    // A real (tiny, random) model folder, so cost previews read a real tokenizer.
    modelDir = mkdtempSync(join(tmpdir(), 'marquee-fuzz-'));
    makeCausalLm({
      out: modelDir,
      name: MODEL,
      layers: 1,
      hidden: 16,
      heads: 2,
      vocab: 300,
      context: 256,
    });
    // The embedding model has no folder on this machine: its context_length is taken as given.
    for (const [name, task, artifactPath] of [
      [MODEL, 'text_generation', modelDir],
      [EMBED_MODEL, 'embedding', '/models/fuzz-embedding'],
    ])
      await admin('POST', '/admin/v1/models', {
        name,
        task,
        artifact_path: artifactPath,
        context_length: 256,
      });
    key = (
      await admin('POST', `/admin/v1/tenants/${tenant.id}/keys`, {
        name: 'fuzz',
      })
    ).key;
    // Objects the admin routes' :id may name: another tenant's, so the fuzzed key survives.
    const target = await admin('POST', '/admin/v1/tenants', { name: 'target' });
    ids.tenant = target.id;
    ids.key = (
      await admin('POST', `/admin/v1/tenants/${target.id}/keys`, { name: 't' })
    ).id;
    ids.plan = (
      await admin('POST', '/admin/v1/plans', {
        name: 'target-plan',
        requests_per_minute: 1,
        tokens_per_minute: 1,
        max_concurrent_requests: 1,
      })
    ).id;
    ids.model = (
      await admin('POST', '/admin/v1/models', {
        name: `fuzz-target-${process.pid}`,
        artifact_path: '/models/target',
        context_length: 8,
      })
    ).id;
    const lastMonth = new Date(
      Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1),
    )
      .toISOString()
      .slice(0, 7);
    ids.invoice = (
      await admin('POST', `/admin/v1/tenants/${target.id}/invoices`, {
        month: lastMonth,
      })
    ).id;
    ids.adminToken = (
      await admin('POST', '/admin/v1/admin-tokens', {
        name: 'target',
        scopes: ['admin:read'],
      })
    ).id;
  });

  afterAll(async () => {
    // Loads the fuzzer asked for would stay in the shared Redis, for every later worker to try.
    await gw?.app
      .get(RedisConnection)
      .client.hdel(MODEL_DESIRED_STATE_KEY, `fuzz-target-${process.pid}`)
      .catch(() => undefined);
    await gw?.close();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
    // How much the property covered.
    console.log(
      `fuzz: ${[...statuses.values()].reduce((a, b) => a + b, 0)} requests; by status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  });

  /** The property itself, for one request and its response. */
  async function expectSound(route: RouteCase | null, opts: InjectOptions) {
    const res = await inject(opts);
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const label = `${opts.method} ${opts.url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
    let body: unknown = null;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = null;
    }
    if (res.statusCode >= 500) {
      const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
      const exempt =
        res.statusCode === 503 &&
        code === 'no_worker_available' &&
        route?.kind === 'tenant' &&
        route.method === 'POST' &&
        INFERENCE_ROUTES.has(route.url);
      const notReady =
        res.statusCode === 503 &&
        route?.url === '/health/ready' &&
        (body as { checks?: { workers?: unknown } } | null)?.checks?.workers ===
          0;
      if (!exempt && !notReady) throw new Error(`server error: ${label}`);
      if (notReady) return;
    }
    if (res.statusCode >= 400 && !isOpenAiError(body))
      throw new Error(`error not in OpenAI's shape: ${label}`);
  }

  const tokenFor = (route: RouteCase) =>
    route.kind === 'admin'
      ? gw.adminToken
      : route.kind === 'tenant'
        ? key
        : undefined;

  /** The route's URL with its :id or :model filled: a real object, a random UUID, or junk. */
  const pathFor = (route: RouteCase): fc.Arbitrary<string> => {
    if (route.url.includes(':id') && route.kind === 'admin' && route.id) {
      const real = ids[route.id];
      return fc
        .oneof(fc.constant(real), fc.uuid(), hostileString.map(encode))
        .map((id) => route.url.replace(':id', id || 'x'));
    }
    if (route.url.includes(':model'))
      return fc
        .oneof(fc.constant(MODEL), hostileString.map(encode))
        .map((m) => route.url.replace(':model', m || 'x'));
    return fc.constant(route.url);
  };

  const fuzzed = ROUTES.filter(
    (r) => r.kind !== 'public' || !r.url.startsWith('/docs'),
  );

  it.each(fuzzed.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: bodies, queries and path parameters never give 5xx, and errors are OpenAI-shaped',
    async (_, route) => {
      const token = tokenFor(route);
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
      await fc.assert(
        fc.asyncProperty(
          pathFor(route),
          queryString,
          hasBody ? bodyFor(route) : fc.constant(undefined),
          async (path, query, body) => {
            await expectSound(route, {
              method: route.method,
              url: query ? `${path}?${query}` : path,
              headers: {
                ...headers,
                ...(body === undefined
                  ? {}
                  : { 'content-type': 'application/json' }),
              },
              ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
            });
          },
        ),
        { numRuns: RUNS * 2, endOnFailure: true },
      );
    },
  );

  it.each(fuzzed.map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: hostile headers and raw payloads never give 5xx, and errors are OpenAI-shaped',
    async (_, route) => {
      const token = tokenFor(route);
      const authorization = fc.oneof(
        fc.constant(token ? `Bearer ${token}` : undefined),
        fc.constantFrom(
          'Bearer ',
          'Basic Zm9vOmJhcg==',
          'Bearer mq_',
          'Bearer mqa_x',
          `Bearer ${key}x`,
          'bearer  x  y',
        ),
        headerValue,
      );
      await fc.assert(
        fc.asyncProperty(
          authorization,
          fc.option(
            fc.oneof(
              fc.constantFrom(
                'application/json',
                'application/json; charset=latin1',
                'text/plain',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
                'application/xml',
              ),
              headerValue,
            ),
          ),
          fc.dictionary(
            fc.oneof(
              fc.constantFrom(
                'accept',
                'accept-encoding',
                'idempotency-key',
                'x-request-id',
                'openai-organization',
                'x-forwarded-for',
                'user-agent',
              ),
              fc.stringMatching(/^x-[a-z]{1,12}$/),
            ),
            headerValue,
            { maxKeys: 4 },
          ),
          fc.option(
            fc.oneof(
              hostileJson.map((v) => JSON.stringify(v)),
              fc.string({ unit: 'binary', maxLength: 80 }),
              fc.constantFrom(
                '{',
                '[',
                '{"model":',
                '{"a":1}{"b":2}',
                'null',
                '""',
                '{"__proto__":{"x":1}}',
                '{"constructor":{"prototype":{}}}',
                '[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]',
              ),
            ),
          ),
          async (auth, contentType, extra, payload) => {
            const headers: Record<string, string> = { ...extra };
            if (auth !== undefined) headers.authorization = auth;
            if (contentType !== null) headers['content-type'] = contentType;
            await expectSound(route, {
              method: route.method,
              url: route.url
                .replace(
                  ':id',
                  route.kind === 'admin' && route.id ? ids[route.id] : 'x',
                )
                .replace(':model', MODEL),
              headers,
              ...(payload !== null && route.method !== 'GET'
                ? { payload }
                : {}),
            });
          },
        ),
        { numRuns: RUNS, endOnFailure: true },
      );
    },
  );

  it('unknown URLs and methods answer 404 (or 400) in OpenAI shape, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        fc.array(
          fc.oneof(
            hostileString.map(encode),
            fc.constantFrom('v1', 'admin', 'v2', '..', '%00', '%ED%A0%80', '%'),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (method, segments) => {
          await expectSound(null, { method, url: `/${segments.join('/')}` });
        },
      ),
      { numRuns: RUNS * 5, endOnFailure: true },
    );
  });
});
