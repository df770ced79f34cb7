import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  disposeFixture,
  freePort,
  type OpsFixture,
  prepareFixture,
  readLog,
  REDIS_URL,
  type RunningApp,
  startApp,
  stopAll,
  streamCompletion,
  until,
} from './ops-stack';

const LOG_DIR = join(tmpdir(), 'marquee-ops-e2e-logs');

/** The sum of a metric's series in Prometheus exposition text. */
function sumOf(text: string, metric: string): number {
  return text
    .split('\n')
    .filter(
      (line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
const STREAM_TOKENS = 240;

describe('operations, with real gateway and worker processes', () => {
  let fixture: OpsFixture;
  let gateway: RunningApp;
  const workers: RunningApp[] = [];
  let origin: string;
  /** The gateway's metrics server (METRICS_PORT), apart from the API's origin. */
  let gatewayMetrics: string;
  let grpcPort: number;
  let workerMetricsPort: number;

  const getJson = async (url: string) => {
    const response = await fetch(url);
    return {
      status: response.status,
      body: (await response.json()) as { checks: { models: string[] } },
    };
  };

  const startWorker = async () => {
    workerMetricsPort = await freePort();
    const worker = startApp(
      'worker',
      {
        REDIS_URL,
        MODELS_DIR: fixture.modelsDir,
        WORKER_MODELS: fixture.model,
        WORKER_ID: `ops-e2e-${process.pid}-${workers.length}`,
        METRICS_PORT: String(workerMetricsPort),
        METRICS_HOST: '127.0.0.1',
        SHUTDOWN_GRACE_MS: '30000',
        INTRA_OP_THREADS: '1',
      },
      LOG_DIR,
    );
    workers.push(worker);
    await until('the worker to be ready', async () => {
      const ready = await fetch(
        `http://127.0.0.1:${workerMetricsPort}/health/ready`,
      );
      return ready.status === 200;
    });
    await until('the gateway to see the worker', async () => {
      const { status, body } = await getJson(`${origin}/health/ready`);
      return status === 200 && body.checks.models.includes(fixture.model);
    });
    return worker;
  };

  beforeAll(async () => {
    mkdirSync(LOG_DIR, { recursive: true });
    fixture = await prepareFixture('ops');
    const port = await freePort();
    grpcPort = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const metricsPort = await freePort();
    gatewayMetrics = `http://127.0.0.1:${metricsPort}`;
    gateway = startApp(
      'gateway',
      {
        DATABASE_URL: fixture.db.url,
        REDIS_URL,
        HOST: '127.0.0.1',
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        GRPC_ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}`,
        METRICS_PORT: String(metricsPort),
        MARQUEE_ADMIN_TOKEN: fixture.adminToken,
        SHUTDOWN_GRACE_MS: '30000',
      },
      LOG_DIR,
    );
    await until('the gateway to answer', async () => {
      return (await fetch(`${origin}/health/live`)).ok;
    });
    await startWorker();
  }, 300_000);

  afterAll(async () => {
    await stopAll(
      [gateway?.child, ...workers.map((w) => w.child)].filter(Boolean) as never,
    );
    await disposeFixture(fixture);
  }, 60_000);

  it('serves Prometheus metrics on the gateway and on the worker', async () => {
    const { result } = streamCompletion(
      origin,
      fixture.apiKey,
      fixture.model,
      8,
    );
    expect(await result).toMatchObject({
      status: 200,
      done: true,
      error: null,
    });

    // Never on the API port, which the Ingress exposes.
    expect((await fetch(`${origin}/metrics`)).status).toBe(404);
    const gatewayText = await (await fetch(`${gatewayMetrics}/metrics`)).text();
    const model = `model="${fixture.model}"`;
    expect(gatewayText).toMatch(
      new RegExp(
        `marquee_time_to_first_token_seconds_count\\{[^}]*${model}[^}]*\\} 1`,
      ),
    );
    expect(gatewayText).toMatch(
      new RegExp(
        `marquee_completion_tokens_total\\{[^}]*${model}[^}]*tenant="[^"]+"[^}]*\\} 8`,
      ),
    );
    expect(gatewayText).toMatch(
      /marquee_inter_token_latency_seconds_count\{[^}]*\} [1-9]/,
    );
    expect(gatewayText).toMatch(
      /marquee_http_request_duration_seconds_count\{[^}]*route="\/v1\/completions"[^}]*status_code="200"/,
    );

    const workerText = await (
      await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)
    ).text();
    expect(workerText).toMatch(
      new RegExp(
        `marquee_worker_jobs_total\\{[^}]*${model}[^}]*outcome="completed"[^}]*\\} 1`,
      ),
    );
    expect(workerText).toMatch(
      new RegExp(`marquee_queue_wait_seconds_count\\{[^}]*${model}`),
    );
    expect(workerText).toMatch(
      new RegExp(`marquee_queue_jobs\\{[^}]*${model}`),
    );
    expect(workerText).toMatch(
      new RegExp(
        `marquee_worker_tokens_generated_total\\{[^}]*${model}[^}]*\\} 8`,
      ),
    );
    expect(workerText).toMatch(
      /process_resident_memory_bytes\{service="worker"\} \d+/,
    );
  }, 120_000);

  it('writes JSON log lines with the request id and never the tenant key', () => {
    const lines = readLog(gateway)
      .split('\n')
      .filter((line) => line.startsWith('{'));
    const completed = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find(
        (r) => r.msg === 'request completed' && r.route === '/v1/completions',
      );
    expect(completed).toMatchObject({
      service: 'gateway',
      model: fixture.model,
      statusCode: 200,
    });
    expect(String(completed?.requestId)).toMatch(/^req_/);
    expect(completed?.tenantId).toEqual(expect.any(String));
    for (const app of [gateway, ...workers])
      expect(readLog(app)).not.toContain(fixture.apiKey.slice(3));
  });

  it('finishes the streams a worker is running when it gets SIGTERM, then a new worker serves', async () => {
    const streams = Array.from({ length: 3 }, () =>
      streamCompletion(origin, fixture.apiKey, fixture.model, STREAM_TOKENS),
    );
    // In flight: the worker has all three running (its active-sequences gauge says so).
    await until('the worker to run all three', async () => {
      const text = await (
        await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)
      ).text();
      return sumOf(text, 'marquee_worker_active_sequences') >= 3;
    });
    const worker = workers[workers.length - 1];
    const sigtermAt = Date.now();
    worker.child.kill('SIGTERM');
    const readyWhileDraining = await fetch(
      `http://127.0.0.1:${workerMetricsPort}/health/ready`,
    );
    expect(readyWhileDraining.status).toBe(503);

    const results = await Promise.all(streams.map((s) => s.result));
    for (const result of results)
      expect(result).toMatchObject({
        status: 200,
        done: true,
        error: null,
        finishReason: 'length',
      });
    // Every stream was still open when the signal went out.
    for (const result of results)
      expect(result.endedAt).toBeGreaterThan(sigtermAt);
    expect(await worker.exited).toBe(0);

    await startWorker();
    const { result } = streamCompletion(
      origin,
      fixture.apiKey,
      fixture.model,
      4,
    );
    expect(await result).toMatchObject({
      status: 200,
      done: true,
      error: null,
    });
  }, 120_000);

  it('finishes every open stream when the gateway gets SIGTERM: zero client errors', async () => {
    const streams = Array.from({ length: 4 }, () =>
      streamCompletion(origin, fixture.apiKey, fixture.model, STREAM_TOKENS),
    );
    // In flight: the gateway holds all four open (its in-flight gauge says so).
    await until('the gateway to hold all four', async () => {
      const text = await (await fetch(`${gatewayMetrics}/metrics`)).text();
      return sumOf(text, 'marquee_http_requests_in_flight') >= 4;
    });
    const sigtermAt = Date.now();
    gateway.child.kill('SIGTERM');

    // Draining: not ready, and new API requests are turned away with a retryable 503.
    await until(
      'readiness to report draining',
      async () => {
        return (await fetch(`${origin}/health/ready`)).status === 503;
      },
      5000,
    );
    const refused = await fetch(`${origin}/v1/models`, {
      headers: { authorization: `Bearer ${fixture.apiKey}` },
    });
    expect(refused.status).toBe(503);
    expect(
      ((await refused.json()) as { error: { code: string } }).error.code,
    ).toBe('server_shutting_down');

    const results = await Promise.all(streams.map((s) => s.result));
    for (const result of results)
      expect(result).toMatchObject({
        status: 200,
        done: true,
        error: null,
        finishReason: 'length',
      });
    // Every stream was still open when the signal went out.
    for (const result of results)
      expect(result.endedAt).toBeGreaterThan(sigtermAt);
    expect(await gateway.exited).toBe(0);
    expect(readLog(gateway)).toContain('all requests finished');
  }, 120_000);
});
