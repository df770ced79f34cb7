import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { CORS_EXPOSED_HEADERS, installCors } from './cors';
import { installHttpHooks } from './fastify-hooks';

const APP = 'https://app.example.com';
/** What the `openai` client asks for in a browser. */
const REQUEST_HEADERS =
  'authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,x-stainless-package-version,x-stainless-retry-count,x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout';

async function gateway(origins: '*' | string[]): Promise<FastifyInstance> {
  const app = Fastify();
  installHttpHooks(app);
  installCors(app, origins);
  app.get('/v1/models', async () => ({ object: 'list', data: [] }));
  app.post('/v1/chat/completions', async (_request, reply) =>
    reply.status(401).send({ error: { message: 'no key' } }),
  );
  app.get('/admin/v1/tenants', async () => ({ data: [] }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

interface Reply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
}

/** One exchange over a real socket (Fastify's inject needs ESM that Jest does not load). */
function inject(
  app: FastifyInstance,
  options: {
    method?: string;
    url: string;
    headers?: Record<string, string>;
    payload?: object;
  },
): Promise<Reply> {
  const { port } = app.server.address() as AddressInfo;
  const body = options.payload ? JSON.stringify(options.payload) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.url,
        headers: {
          ...options.headers,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const preflight = (app: FastifyInstance, url: string, origin: string) =>
  inject(app, {
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': REQUEST_HEADERS,
    },
  });

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('installCors', () => {
  let listed: FastifyInstance;
  let any: FastifyInstance;
  let none: FastifyInstance;
  beforeAll(async () => {
    [listed, any, none] = await Promise.all([
      gateway([APP, 'http://localhost:5173']),
      gateway('*'),
      gateway([]),
    ]);
  });
  afterAll(() => Promise.all([listed, any, none].map((app) => app.close())));

  it('answers a preflight from an allowed origin with 204, the methods and the headers it asked for', async () => {
    const reply = await preflight(listed, '/v1/chat/completions', APP);

    expect(reply.statusCode).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe(APP);
    expect(reply.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(reply.headers['access-control-allow-headers']).toBe(REQUEST_HEADERS);
    expect(reply.headers['access-control-max-age']).toBe('600');
    expect(reply.headers.vary).toContain('Origin');
    // The gateway's own headers are on it too.
    expect(reply.headers['x-request-id']).toBeDefined();
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });

  it('lets an allowed origin read the request id, rate-limit and retry headers, errors included', async () => {
    const reply = await inject(listed, {
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { origin: APP },
      payload: {},
    });

    expect(reply.statusCode).toBe(401);
    expect(reply.headers['access-control-allow-origin']).toBe(APP);
    const exposed = String(
      reply.headers['access-control-expose-headers'],
    ).split(', ');
    expect(exposed).toEqual([...CORS_EXPOSED_HEADERS]);
    expect(exposed).toEqual(
      expect.arrayContaining([
        'x-request-id',
        'x-ratelimit-remaining-tokens',
        'retry-after',
      ]),
    );
  });

  it('gives a disallowed origin no CORS headers, and its preflight a 404', async () => {
    const reply = await preflight(
      listed,
      '/v1/chat/completions',
      'https://evil.example',
    );
    expect(reply.statusCode).toBe(404);
    expect(corsHeaders(reply.headers)).toEqual([]);

    const get = await inject(listed, {
      url: '/v1/models',
      headers: { origin: 'https://evil.example' },
    });
    expect(get.statusCode).toBe(200);
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('allows no origin at all by default (an empty list)', async () => {
    const reply = await preflight(none, '/v1/chat/completions', APP);
    expect(reply.statusCode).toBe(404);
    expect(corsHeaders(reply.headers)).toEqual([]);
  });

  it('allows any origin with *, answering *', async () => {
    const reply = await preflight(any, '/v1/models', 'http://localhost:3000');
    expect(reply.statusCode).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe('*');
  });

  it('never opens the admin API to other origins, even with *', async () => {
    const reply = await preflight(any, '/admin/v1/tenants', APP);
    expect(reply.statusCode).toBe(404);
    expect(corsHeaders(reply.headers)).toEqual([]);
    const get = await inject(any, {
      url: '/admin/v1/tenants',
      headers: { origin: APP },
    });
    expect(corsHeaders(get.headers)).toEqual([]);
  });

  it('adds nothing to a request without an Origin (a server-side client)', async () => {
    const reply = await inject(any, { url: '/v1/models' });
    expect(reply.statusCode).toBe(200);
    expect(corsHeaders(reply.headers)).toEqual([]);
  });
});
