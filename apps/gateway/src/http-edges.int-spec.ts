import type { AddressInfo } from 'node:net';
import { SAMPLING_LIMITS } from '@marquee/contracts/queue';
import { REQUEST_LIMITS } from '@marquee/gateway/util-http';
import { HttpClient } from './testing/http';
import { isOpenAiError, rawRequest } from './testing/raw-http';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';

/** What every error the gateway sends must look like, whoever raised it. */
function expectOpenAiError(
  reply: { status: number; body: unknown; text: string },
  status: number,
) {
  expect(reply.status).toBe(status);
  expect(isOpenAiError(reply.body)).toBe(true);
  expect(reply.text).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|FST_/);
}

describe('the HTTP edge: errors in OpenAI shape, hostile text, security headers (PostgreSQL, Redis)', () => {
  let gw: TestGateway;
  let http: HttpClient;
  let port: number;
  let key: string;
  let tenantId: string;

  const asAdmin = (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    body?: unknown,
  ) => http.call(method, url, { token: gw.adminToken, body });

  beforeAll(async () => {
    gw = await startTestGateway('http_edges');
    http = new HttpClient(gw.app);
    await gw.app.listen(0, '127.0.0.1');
    port = (gw.app.getHttpServer().address() as AddressInfo).port;
    tenantId = (await asAdmin('POST', '/admin/v1/tenants', { name: 'edge' }))
      .body.id;
    key = (
      await asAdmin('POST', `/admin/v1/tenants/${tenantId}/keys`, { name: 'k' })
    ).body.key;
  });

  afterAll(async () => {
    await gw?.close();
  });

  describe("errors Node's parser and Fastify raise", () => {
    it('answers a 20 KB Authorization header with 431 in OpenAI shape', async () => {
      const reply = await rawRequest(
        port,
        `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer mq_${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expectOpenAiError(reply, 431);
      expect(reply.body.error.code).toBe('headers_too_large');
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
    });

    it('answers a CR inside a header value with 400 in OpenAI shape', async () => {
      const reply = await rawRequest(
        port,
        `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n`,
      );
      expectOpenAiError(reply, 400);
      expect(reply.body.error.type).toBe('invalid_request_error');
    });

    it('answers a garbage request line with 400 in OpenAI shape', async () => {
      expectOpenAiError(await rawRequest(port, 'HELLO\r\n\r\n'), 400);
    });

    it('answers a URL whose percent-encoding does not decode with 400 in OpenAI shape', async () => {
      const reply = await rawRequest(
        port,
        `GET /v1/models/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expectOpenAiError(reply, 400);
      expect(reply.body.error.code).toBe('invalid_url');
    });

    it('answers a body over the limit with 413 naming the limit', async () => {
      const reply = await http.call('POST', '/v1/completions', {
        token: key,
        raw: `{"model":"m","prompt":"${'x'.repeat(REQUEST_LIMITS.bodyBytes)}"}`,
      });
      expectOpenAiError(reply, 413);
      expect(reply.body.error.code).toBe('request_too_large');
      expect(reply.body.error.message).toContain(
        String(REQUEST_LIMITS.bodyBytes),
      );
    });

    it('answers an unknown route with 404 unknown_url', async () => {
      const reply = await http.call('GET', '/v2/nothing-here?x=1');
      expectOpenAiError(reply, 404);
      expect(reply.body.error.code).toBe('unknown_url');
      expect(reply.body.error.message).toContain('GET /v2/nothing-here');
    });

    it('answers a body nested a million levels deep without a server error', async () => {
      const depth = 1_000_000;
      const reply = await http.call('POST', '/v1/chat/completions', {
        token: key,
        raw: `{"model":"m","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      });
      expect(reply.status).toBeLessThan(500);
      expect(isOpenAiError(reply.body)).toBe(true);
    });

    it('answers unreadable JSON, an empty JSON body and a wrong content type in OpenAI shape', async () => {
      const broken = await http.call('POST', '/v1/completions', {
        token: key,
        raw: '{"model": "m", "prompt": ',
      });
      expectOpenAiError(broken, 400);
      expect(broken.body.error.code).toBe('invalid_json');
      const proto = await http.call('POST', '/admin/v1/tenants', {
        token: gw.adminToken,
        raw: '{"name":"x","__proto__":{"admin":true}}',
      });
      expectOpenAiError(proto, 400);
      const empty = await gw.app.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
        },
        payload: '',
      });
      expectOpenAiError(
        { status: empty.statusCode, body: empty.json(), text: empty.body },
        400,
      );
      const xml = await gw.app.inject({
        method: 'POST',
        url: '/v1/completions',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/xml',
        },
        payload: '<prompt/>',
      });
      expectOpenAiError(
        { status: xml.statusCode, body: xml.json(), text: xml.body },
        415,
      );
    });
  });

  describe('NUL bytes and lone surrogates', () => {
    const cases: [string, string, string, unknown, string][] = [
      [
        'a NUL in model',
        'POST',
        '/v1/chat/completions',
        { model: `m${NUL}`, messages: [{ role: 'user', content: 'hi' }] },
        'model',
      ],
      [
        'a lone surrogate in message content',
        'POST',
        '/v1/chat/completions',
        {
          model: 'm',
          messages: [
            { role: 'user', content: 'ok' },
            { role: 'user', content: `x${LONE_SURROGATE}y` },
          ],
        },
        'messages[1].content',
      ],
      [
        'a NUL in a stop string',
        'POST',
        '/v1/completions',
        { model: 'm', prompt: 'p', stop: ['a', `b${NUL}`] },
        'stop[1]',
      ],
      [
        'a NUL in user',
        'POST',
        '/v1/embeddings',
        { model: 'm', input: 'hi', user: NUL },
        'user',
      ],
      [
        'a NUL in a cost preview prompt',
        'POST',
        '/v1/cost-preview',
        { model: 'm', prompt: [`${NUL}`] },
        'prompt[0]',
      ],
    ];

    it.each(cases)(
      'rejects %s with 400 naming the field',
      async (_, method, url, body, param) => {
        const reply = await http.call(method as 'POST', url, {
          token: key,
          body,
        });
        expectOpenAiError(reply, 400);
        expect(reply.body.error).toMatchObject({
          type: 'invalid_request_error',
          param,
        });
      },
    );

    it('rejects them in admin names and model paths with 400 naming the field', async () => {
      for (const [url, body, param] of [
        ['/admin/v1/tenants', { name: `studio${NUL}` }, 'name'],
        ['/admin/v1/tenants', { name: `studio${LONE_SURROGATE}` }, 'name'],
        [
          '/admin/v1/plans',
          {
            name: `\udc00plan`,
            requests_per_minute: 1,
            tokens_per_minute: 1,
            max_concurrent_requests: 1,
          },
          'name',
        ],
        [
          '/admin/v1/models',
          { name: 'm', artifact_path: `/models/m${NUL}`, context_length: 8 },
          'artifact_path',
        ],
        [
          `/admin/v1/tenants/${tenantId}/keys`,
          { name: 'k', allowed_models: [`m${NUL}`] },
          'allowed_models[0]',
        ],
      ] as const) {
        const reply = await asAdmin('POST', url, body);
        expectOpenAiError(reply, 400);
        expect(reply.body.error.param).toBe(param);
      }
      // Nothing was written.
      expect(
        await gw.prisma.tenant.count({
          where: { name: { startsWith: 'studio' } },
        }),
      ).toBe(0);
    });

    it('rejects them in query strings, path parameters and object keys', async () => {
      const query = await http.call('GET', '/v1/usage?start=2024-01-01%00', {
        token: key,
      });
      expectOpenAiError(query, 400);
      expect(query.body.error.param).toBe('start');
      const path = await http.call('GET', '/v1/models/m%00', { token: key });
      expectOpenAiError(path, 400);
      expect(path.body.error.param).toBe('model');
      const audit = await asAdmin('GET', '/admin/v1/audit-log?actor=%ED%A0%80');
      expect(audit.status).toBeLessThan(500);
      expect(isOpenAiError(audit.body) || audit.status === 200).toBe(true);
      const objectKey = await http.call('POST', '/v1/completions', {
        token: key,
        raw: '{"model":"m","prompt":"p","logit_bias":{"\\u0000":1}}',
      });
      expectOpenAiError(objectKey, 400);
      expect(objectKey.body.error.param).toBe('logit_bias');
    });

    it('still accepts paired surrogates (emoji) and other control-free text', async () => {
      const reply = await asAdmin('POST', '/admin/v1/tenants', {
        name: 'Studio 🎬 ü',
      });
      expect(reply.status).toBe(201);
      expect(reply.body.name).toBe('Studio 🎬 ü');
    });
  });

  describe('dates and months', () => {
    it('refuses invoice month 0000-01 and day 0000-01-01 with 400 naming the field', async () => {
      const invoice = await asAdmin(
        'POST',
        `/admin/v1/tenants/${tenantId}/invoices`,
        {
          month: '0000-01',
        },
      );
      expectOpenAiError(invoice, 400);
      expect(invoice.body.error.param).toBe('month');
      const usage = await http.call('GET', '/v1/usage?start=0000-01-01', {
        token: key,
      });
      expectOpenAiError(usage, 400);
      expect(usage.body.error.param).toBe('start');
      const audit = await asAdmin(
        'GET',
        '/admin/v1/audit-log?since=0000-01-01T00:00:00Z',
      );
      expectOpenAiError(audit, 400);
      expect(audit.body.error.param).toBe('since');
    });
  });

  describe('request limits', () => {
    it('names the parameter over its limit', async () => {
      const chat = (extra: object) =>
        http.call('POST', '/v1/chat/completions', {
          token: key,
          body: {
            model: 'm',
            messages: [{ role: 'user', content: 'hi' }],
            ...extra,
          },
        });
      const over = [
        [{ n: SAMPLING_LIMITS.choices + 1 }, 'n'],
        [
          {
            messages: Array.from(
              { length: REQUEST_LIMITS.messages + 1 },
              () => ({ role: 'user', content: 'x' }),
            ),
          },
          'messages',
        ],
        [{ model: 'm'.repeat(REQUEST_LIMITS.nameChars + 1) }, 'model'],
        [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      ] as const;
      for (const [extra, param] of over) {
        const reply = await chat(extra);
        expectOpenAiError(reply, 400);
        expect(reply.body.error.param).toBe(param);
      }
      const prompts = await http.call('POST', '/v1/completions', {
        token: key,
        body: {
          model: 'm',
          prompt: Array.from({ length: REQUEST_LIMITS.prompts + 1 }, () => 'p'),
        },
      });
      expectOpenAiError(prompts, 400);
      expect(prompts.body.error.param).toBe('prompt');
      const long = await http.call('POST', '/v1/completions', {
        token: key,
        body: { model: 'm', prompt: 'p'.repeat(REQUEST_LIMITS.textChars + 1) },
      });
      expectOpenAiError(long, 400);
      expect(long.body.error.param).toBe('prompt');
    });
  });

  describe('security headers', () => {
    it('sends nosniff, DENY, no-referrer and no-store on API answers, errors included', async () => {
      for (const reply of [
        await http.call('GET', '/v1/models', { token: key }),
        await http.call('GET', '/v1/models'),
        await http.call('GET', '/nope'),
        await asAdmin('GET', '/admin/v1/tenants'),
        await http.call('GET', '/health/live'),
      ]) {
        expect(reply.headers).toMatchObject({
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        });
        expect(reply.headers['x-request-id']).toMatch(/^req_/);
      }
    });

    it('puts a script-src self policy on Swagger UI, whose scripts all load from /docs', async () => {
      const page = await http.call('GET', '/docs');
      expect(page.status).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      // No inline script that the policy would block: every <script> has a same-origin src.
      const scripts = [
        ...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g),
      ];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, inline] of scripts) {
        expect(attrs).toMatch(/src=["']\.?\/?[^"':]+["']/);
        expect(inline.trim()).toBe('');
      }
      for (const [, attrs] of scripts) {
        const src = /src=["']([^"']+)["']/.exec(attrs)?.[1] ?? '';
        const asset = await http.call(
          'GET',
          new URL(src, 'http://x/docs').pathname,
        );
        expect(asset.status).toBe(200);
      }
    });
  });
});
