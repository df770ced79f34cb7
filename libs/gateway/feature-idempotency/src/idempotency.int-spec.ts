import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import {
  Body,
  Controller,
  Global,
  HttpCode,
  Module,
  Post,
  Res,
} from '@nestjs/common';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { REDIS_URL, RedisConnection } from '@marquee/gateway/data-access-queue';
import { installRequestIdHeader } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';
import { Redis } from 'ioredis';
import { FeatureIdempotencyModule } from './feature-idempotency.module';
import {
  credentialScope,
  recordKey,
  requestFingerprint,
} from './idempotency-key';
import {
  DEFAULT_IDEMPOTENCY_OPTIONS,
  IDEMPOTENCY_OPTIONS,
  type IdempotencyOptions,
} from './idempotency-options';
import { IdempotencyStore } from './idempotency-store.service';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LEASE_MS = 400;

/** A gate a handler waits on until the test opens it. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

/** What the test controller did, per route. */
const state = {
  runs: new Map<string, number>(),
  gate: null as Gate | null,
  /** Resolves when the streaming handler's client has gone away. */
  streamClosed: null as Promise<void> | null,
  failNext: 0,
};
const ran = (route: string) => {
  state.runs.set(route, (state.runs.get(route) ?? 0) + 1);
  return state.runs.get(route) ?? 0;
};

@Controller('t')
class TestController {
  @Post('echo')
  echo(@Body() body: unknown) {
    return { run: ran('echo'), nonce: randomUUID(), body };
  }

  @Post('slow')
  @HttpCode(200)
  async slow(@Body() body: unknown) {
    const run = ran('slow');
    await state.gate?.opened;
    return { run, nonce: randomUUID(), body };
  }

  @Post('flaky')
  flaky(@Res() reply: FastifyReply) {
    const run = ran('flaky');
    if (state.failNext > 0) {
      state.failNext -= 1;
      return reply.code(503).header('retry-after', '1').send({ run });
    }
    return reply.code(200).send({ run });
  }

  @Post('stream')
  async stream(@Res() reply: FastifyReply) {
    const run = ran('stream');
    const raw = reply.raw;
    state.streamClosed = new Promise((resolve) =>
      raw.once('close', () => resolve()),
    );
    reply.hijack();
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    const write = (data: string) => {
      if (!raw.writableEnded && !raw.destroyed) raw.write(`data: ${data}\n\n`);
    };
    write(JSON.stringify({ run, nonce: randomUUID(), text: 'héllo ✓' }));
    await state.gate?.opened;
    write(JSON.stringify({ text: ' world' }));
    write('[DONE]');
    raw.end();
  }
}

@Global()
@Module({})
class RedisTestModule {
  static at(url: string) {
    return {
      module: RedisTestModule,
      providers: [
        { provide: REDIS_URL, useValue: url },
        RedisConnection,
        GatewayMetrics,
      ],
      exports: [RedisConnection, GatewayMetrics],
    };
  }
}

async function startApp(
  redisUrl: string,
  options: Partial<IdempotencyOptions> = {},
) {
  const moduleRef = await Test.createTestingModule({
    imports: [RedisTestModule.at(redisUrl), FeatureIdempotencyModule],
    controllers: [TestController],
  })
    .overrideProvider(IDEMPOTENCY_OPTIONS)
    .useValue({ ...DEFAULT_IDEMPOTENCY_OPTIONS, leaseMs: LEASE_MS, ...options })
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    new FastifyAdapter({ logger: false }),
    { logger: false },
  );
  installRequestIdHeader(app.getHttpAdapter().getInstance());
  await app.listen(0, '127.0.0.1');
  return { app, origin: await app.getUrl() };
}

/**
 * A "Redis" that accepts connections and never answers: the worst outage for a client (nothing
 * fails, everything waits).
 */
async function silentServer(): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** POSTs `{}` over a bare socket, headers as given, and reads the status and body. */
async function rawPost(
  origin: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 2\r\n${head}\r\n{}`,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status: Number(text.split(' ')[1]), body };
}

/** POSTs `{}` on a connection of its own, closed after the response. */
function closingPost(
  origin: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${origin}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

/** Polls `check` until it holds (state kept in Redis has no event to await here). */
async function until(check: () => Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Idempotency-Key (Redis)', () => {
  let app: NestFastifyApplication;
  let origin: string;
  let redis: Redis;
  let token: string;

  const post = (
    path: string,
    key: string | null,
    body: unknown = { q: 1 },
    auth = token,
    signal?: AbortSignal,
  ) =>
    fetch(`${origin}/t/${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${auth}`,
        'content-type': 'application/json',
        // No keep-alive pool outliving the app.
        connection: 'close',
        ...(key === null ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
      signal,
    });
  const recordOf = (key: string, auth = token) =>
    recordKey(credentialScope(`Bearer ${auth}`), key);
  const outcome = async (name: string) =>
    (await app.get(GatewayMetrics).idempotency.get()).values.find(
      (v) => v.labels.outcome === name,
    )?.value ?? 0;

  beforeAll(async () => {
    ({ app, origin } = await startApp(REDIS));
    redis = new Redis(REDIS);
  });

  afterAll(async () => {
    await app.close();
    redis.disconnect();
  });

  beforeEach(() => {
    token = `mq_test_${randomUUID()}`;
    state.runs.clear();
    state.gate = null;
    state.failNext = 0;
  });

  it('replays the first response to a repeat with the same key and body, marked idempotent-replayed', async () => {
    const key = randomUUID();
    const first = await post('echo', key, { a: 1, b: [1, 2] });
    const firstBody = await first.text();
    const repeat = await post('echo', key, { b: [1, 2], a: 1 });

    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(repeat.status).toBe(201);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await repeat.text()).toBe(firstBody);
    expect(repeat.headers.get('content-type')).toBe(
      first.headers.get('content-type'),
    );
    expect(repeat.headers.get('x-request-id')).toBe(
      first.headers.get('x-request-id'),
    );
    expect(state.runs.get('echo')).toBe(1);
  });

  it('runs requests without a key every time', async () => {
    await post('echo', null);
    await post('echo', null);
    expect(state.runs.get('echo')).toBe(2);
  });

  it('replays an SSE stream byte for byte', async () => {
    const key = randomUUID();
    const first = await post('stream', key);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const repeat = await post('stream', key);

    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(repeat.headers.get('content-type')).toBe(
      'text/event-stream; charset=utf-8',
    );
    expect(repeat.headers.get('cache-control')).toBe('no-cache');
    expect(Buffer.from(await repeat.arrayBuffer()).equals(firstBytes)).toBe(
      true,
    );
    expect(firstBytes.toString()).toContain('héllo ✓');
    expect(firstBytes.toString().endsWith('data: [DONE]\n\n')).toBe(true);
    expect(state.runs.get('stream')).toBe(1);
  });

  it('answers a repeat while the first is still running with 409 idempotency_key_in_use and retry-after', async () => {
    const key = randomUUID();
    state.gate = new Gate();
    const first = post('slow', key);
    await until(async () => state.runs.get('slow') === 1);

    const during = await post('slow', key);
    // Outlives several leases: the running request renews its claim.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
    const later = await post('slow', key);
    state.gate.release();
    const firstBody = await (await first).json();
    const after = await post('slow', key);

    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(await during.json()).toEqual({
      error: {
        message: expect.stringContaining('still in progress'),
        type: 'invalid_request_error',
        param: null,
        code: 'idempotency_key_in_use',
      },
    });
    expect(later.status).toBe(409);
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(await after.json()).toEqual(firstBody);
    expect(state.runs.get('slow')).toBe(1);
  });

  it('answers the same key with a different body 422 idempotency_key_reused', async () => {
    const key = randomUUID();
    await post('echo', key, { prompt: 'a' });
    const other = await post('echo', key, { prompt: 'b' });
    const otherRoute = await post('slow', key, { prompt: 'a' });

    expect(other.status).toBe(422);
    expect(await other.json()).toEqual({
      error: {
        message: expect.stringContaining('different request body'),
        type: 'invalid_request_error',
        param: null,
        code: 'idempotency_key_reused',
      },
    });
    expect(otherRoute.status).toBe(422);
    expect(state.runs.get('echo')).toBe(1);
    expect(state.runs.get('slow')).toBeUndefined();
  });

  it("never shows one credential another's response for the same key", async () => {
    const key = randomUUID();
    const mine = (await (await post('echo', key)).json()) as { nonce: string };
    const theirs = await post(
      'echo',
      key,
      { q: 1 },
      `mq_other_${randomUUID()}`,
    );

    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(((await theirs.json()) as { nonce: string }).nonce).not.toBe(
      mine.nonce,
    );
    expect(state.runs.get('echo')).toBe(2);
    // Redis holds neither the token nor the body in plaintext.
    const stored = await redis.hgetallBuffer(recordOf(key));
    expect(stored.state?.toString()).toBe('done');
    const raw = Buffer.concat(Object.values(stored)).toString('latin1');
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(mine.nonce);
  });

  it('refuses a key over 255 characters or with a control character with 400 naming the header', async () => {
    const long = await post('echo', 'k'.repeat(256));
    // Node's parser itself refuses most control characters in a header (CR, LF, NUL, \x01...);
    // a tab gets through it, so the key check must catch it. fetch will not send one.
    const control = await rawPost(origin, '/t/echo', {
      authorization: `Bearer ${token}`,
      'idempotency-key': 'a\tb',
    });

    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        code: 'invalid_idempotency_key',
        message: expect.stringContaining('Idempotency-Key'),
      },
    });
    expect(control.status).toBe(400);
    expect(JSON.parse(control.body).error.message).toMatch(
      /Idempotency-Key.*control character/,
    );
    expect(state.runs.get('echo')).toBeUndefined();
  });

  it('does not store a response the client should retry: the retry runs for real', async () => {
    const key = randomUUID();
    state.failNext = 1;
    const failed = await post('flaky', key);
    await until(async () => (await redis.exists(recordOf(key))) === 0);
    const retried = await post('flaky', key);

    expect(failed.status).toBe(503);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await retried.json()).toEqual({ run: 2 });
  });

  it('releases the key of a stream whose client went away, so a retry runs for real', async () => {
    const key = randomUUID();
    state.gate = new Gate();
    const abort = new AbortController();
    const first = await post('stream', key, { q: 1 }, token, abort.signal);
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    await state.streamClosed;
    state.gate.release();
    await until(async () => (await redis.exists(recordOf(key))) === 0);

    state.gate = null;
    const retried = await post('stream', key);
    const text = await retried.text();

    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(text).toContain('"run":2');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('lets a retry run once the lease of a dead owner has lapsed', async () => {
    const key = randomUUID();
    // A gateway that claimed the key and died: nobody renews its lease.
    const claim = await app
      .get(IdempotencyStore)
      .claim(
        recordOf(key),
        requestFingerprint('POST', '/t/echo', { q: 1 }),
        'dead-owner',
      );
    expect(claim.kind).toBe('claimed');

    const blocked = await post('echo', key);
    await until(
      async () => (await redis.exists(recordOf(key))) === 0,
      LEASE_MS * 5,
    );
    const retried = await post('echo', key);

    expect(blocked.status).toBe(409);
    expect(retried.status).toBe(201);
    expect(state.runs.get('echo')).toBe(1);
  });

  it('makes 1,000 concurrent duplicates run once: one runs, 999 get 409, a later repeat the replay', async () => {
    const key = randomUUID();
    const inProgressBefore = await outcome('in_progress');
    state.gate = new Gate();
    // One connection each (no keep-alive pool left behind).
    const responses = Array.from({ length: 1000 }, () =>
      closingPost(origin, '/t/slow', {
        authorization: `Bearer ${token}`,
        'idempotency-key': key,
      }),
    );
    await until(
      async () => (await outcome('in_progress')) - inProgressBefore === 999,
      20_000,
    );
    state.gate.release();
    const settled = await Promise.all(responses);
    const replay = await post('slow', key, {});

    const ran = settled.filter((r) => r.status === 200);
    expect(state.runs.get('slow')).toBe(1);
    expect(ran).toHaveLength(1);
    expect(settled.filter((r) => r.status === 409)).toHaveLength(999);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe(ran[0].body);
  });

  it('answers 503 redis_unavailable in OpenAI shape when Redis does not answer, and does not run the request', async () => {
    const redisDown = await silentServer();
    const down = await startApp(redisDown.url, { redisTimeoutMs: 500 });
    try {
      const started = Date.now();
      const refused = await fetch(`${down.origin}/t/echo`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          connection: 'close',
          'idempotency-key': randomUUID(),
        },
        body: '{}',
      });
      const elapsed = Date.now() - started;
      const withoutKey = await fetch(`${down.origin}/t/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: '{}',
      });

      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({
        error: {
          message: expect.stringContaining('Idempotency-Key'),
          type: 'server_error',
          param: null,
          code: 'redis_unavailable',
        },
      });
      expect(elapsed).toBeLessThan(2000);
      // Only the request that asked for protection is refused.
      expect(withoutKey.status).toBe(201);
      expect(state.runs.get('echo')).toBe(1);
    } finally {
      await down.app.close();
      await redisDown.close();
    }
  });
});
