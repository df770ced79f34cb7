import OpenAI from 'openai';
import { type Replica, startSecondGateway } from './support/second-gateway';
import { e2eStack } from './support/stack';

const APP = 'https://studio.example';
/** What the `openai` client asks a preflight for in a browser. */
const REQUEST_HEADERS =
  'authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,x-stainless-package-version,x-stainless-retry-count,x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout';

const preflight = (origin: string, path: string, from: string) =>
  fetch(`${origin}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: from,
      'access-control-request-method': 'POST',
      'access-control-request-headers': REQUEST_HEADERS,
    },
  });

const corsHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) =>
    name.startsWith('access-control-'),
  );

describe('CORS', () => {
  describe('with the production default (MARQUEE_CORS_ORIGINS unset)', () => {
    it('allows no origin: a preflight gets 404 and no CORS headers', async () => {
      const response = await preflight(
        e2eStack().origin,
        '/v1/chat/completions',
        APP,
      );

      expect(response.status).toBe(404);
      expect(corsHeaders(response)).toEqual([]);
    });
  });

  describe(`with MARQUEE_CORS_ORIGINS=${APP}`, () => {
    let replica: Replica;
    beforeAll(async () => {
      // The replica inherits this process's environment (see startSecondGateway).
      process.env.MARQUEE_CORS_ORIGINS = APP;
      try {
        replica = await startSecondGateway();
      } finally {
        delete process.env.MARQUEE_CORS_ORIGINS;
      }
    });
    afterAll(() => replica?.stop());

    it('answers a preflight from that origin with 204, the methods and the headers the client asked for', async () => {
      const response = await preflight(
        replica.origin,
        '/v1/chat/completions',
        APP,
      );

      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      expect(response.headers.get('access-control-allow-methods')).toBe(
        'GET, POST, DELETE',
      );
      expect(response.headers.get('access-control-allow-headers')).toBe(
        REQUEST_HEADERS,
      );
      expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    });

    it('lets a page on that origin read x-request-id and every x-ratelimit-* header of a real completion', async () => {
      const client = new OpenAI({
        baseURL: `${replica.origin}/v1`,
        apiKey: e2eStack().apiKey,
        maxRetries: 0,
        defaultHeaders: { origin: APP },
      });

      const { response } = await client.chat.completions
        .create({
          model: e2eStack().model,
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 2,
        })
        .withResponse();

      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      const exposed = (
        response.headers.get('access-control-expose-headers') ?? ''
      ).split(', ');
      const rateLimit = [...response.headers.keys()].filter((name) =>
        name.startsWith('x-ratelimit-'),
      );
      expect(rateLimit.length).toBeGreaterThan(0);
      expect(exposed).toEqual(
        expect.arrayContaining(['x-request-id', 'retry-after', ...rateLimit]),
      );
      // The security headers are still there.
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('gives another origin no CORS headers', async () => {
      const response = await preflight(
        replica.origin,
        '/v1/chat/completions',
        'https://elsewhere.example',
      );

      expect(response.status).toBe(404);
      expect(corsHeaders(response)).toEqual([]);
    });

    it('keeps the admin API same-origin only', async () => {
      const response = await preflight(
        replica.origin,
        '/admin/v1/tenants',
        APP,
      );

      expect(response.status).toBe(404);
      expect(corsHeaders(response)).toEqual([]);
    });
  });
});
