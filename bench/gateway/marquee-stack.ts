/**
 * The Marquee the gateway bench measures. By default it starts its own, as `npm start` would but
 * apart from it: a fresh database (dropped at the end), the demo model's shape and an echo model
 * (when the model maker can make one) under names unique to this run (queues are named by model,
 * so a concurrent `npm start` on the same Redis never takes the bench's jobs), the built gateway
 * and one worker on free ports, and a tenant whose plan limits neither the 50 concurrent clients
 * nor the 500 concurrent streams.
 * With `MARQUEE_BASE_URL` set it measures that running instance instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '@marquee/gateway/feature-admin';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { MANIFEST_FILE } from '@marquee/shared/model-format';
import {
  buildApps,
  createTestDatabase,
  ensureRedis,
  freePort,
  ROOT,
  stopAll,
  type TestDatabase,
  waitForOk,
} from '@marquee/shared/util-setup';

/** One model the bench calls on Marquee, and what it stands for. */
export interface MarqueeModel {
  /** `echo` (the instant model) or `marquee-tiny` (the demo model's shape). */
  kind: 'echo' | 'marquee-tiny';
  /** The name requests carry. */
  name: string;
}

export interface MarqueeTarget {
  /** `http://host:port` of the API. */
  origin: string;
  /** The gateway's Prometheus endpoint, when known. */
  metricsUrl: string | null;
  apiKey: string;
  models: MarqueeModel[];
  /** Why a model kind is not measured, for the report. */
  skipped: string[];
  /** `own` (started here) or `running` (MARQUEE_BASE_URL). */
  mode: 'own' | 'running';
  /** Environment the gateway and worker ran with (own mode), secrets left out. */
  settings: Record<string, string>;
  stop(): Promise<void>;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * A plan no bench load reaches (50 clients at c=50, 500 streams at once): the bench measures
 * the path, not the limits.
 */
const BENCH_PLAN = {
  requests_per_minute: 2_000_000_000,
  tokens_per_minute: 2_000_000_000,
  max_concurrent_requests: 100_000,
};

/** Kinds to measure: BENCH_MARQUEE_MODELS (comma-separated), default both. */
function wantedKinds(): MarqueeModel['kind'][] {
  const raw = process.env.BENCH_MARQUEE_MODELS ?? 'echo,marquee-tiny';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(
      (s): s is MarqueeModel['kind'] => s === 'echo' || s === 'marquee-tiny',
    );
}

/**
 * Makes an echo model folder with `npm run model:make -- --kind echo` (the CLI, so the bench
 * follows whatever the model maker writes); null, with the reason, when it cannot.
 */
function makeEchoModel(
  dir: string,
  name: string,
): { ok: true } | { ok: false; why: string } {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(ROOT, 'tools', 'model-make', 'model-make.ts'),
      '--kind',
      'echo',
      '--name',
      name,
      '--out',
      dir,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const manifest = join(dir, MANIFEST_FILE);
  if (result.status !== 0 || !existsSync(manifest)) {
    const said = `${result.stderr ?? ''}${result.stdout ?? ''}`
      .trim()
      .split('\n')[0];
    return { ok: false, why: `model:make -- --kind echo failed: ${said}` };
  }
  const engine = (
    JSON.parse(readFileSync(manifest, 'utf8')) as { engine?: string }
  ).engine;
  if (engine !== 'echo')
    return {
      ok: false,
      why: `model:make -- --kind echo wrote engine ${engine ?? 'onnx'}, not echo`,
    };
  return { ok: true };
}

function startApp(
  name: 'gateway' | 'worker',
  env: NodeJS.ProcessEnv,
  logDir: string,
): ChildProcess {
  const fd = openSync(join(logDir, `${name}.log`), 'w');
  // BENCH_CPU_PROF_DIR: each app writes a V8 CPU profile there when it exits (open it in
  // Chrome's DevTools or speedscope) to see the event-loop work behind the stage table.
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
    : [];
  return spawn(
    process.execPath,
    [...profile, join(ROOT, 'dist', 'apps', name, 'main.js')],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
    },
  );
}

async function admin(
  origin: string,
  token: string,
  method: string,
  path: string,
  body: unknown,
) {
  const response = await fetch(`${origin}/admin/v1/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${method} /admin/v1/${path}: ${response.status} ${text}`);
  return JSON.parse(text) as { id: string };
}

/** Sends 1-token chat completions until one succeeds: the worker has loaded the model. */
async function waitForModel(
  origin: string,
  apiKey: string,
  model: string,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 1,
      }),
    });
    last = `${response.status} ${await response.text()}`;
    if (response.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`model ${model} never answered (last: ${last})`);
}

/** Uses the Marquee at MARQUEE_BASE_URL (e.g. `npm start`'s http://localhost:8080). */
function runningMarquee(base: string): MarqueeTarget {
  const origin = base.replace(/\/v1\/?$/, '').replace(/\/$/, '');
  const apiKey =
    process.env.MARQUEE_API_KEY ??
    (
      JSON.parse(
        readFileSync(join(ROOT, '.marquee', 'demo-key.json'), 'utf8'),
      ) as { key: string }
    ).key;
  const names: Record<MarqueeModel['kind'], string | undefined> = {
    echo: process.env.BENCH_ECHO_MODEL,
    'marquee-tiny': process.env.BENCH_TINY_MODEL ?? 'marquee-tiny',
  };
  const models: MarqueeModel[] = [];
  const skipped: string[] = [];
  for (const kind of wantedKinds()) {
    const name = names[kind];
    if (name) models.push({ kind, name });
    else
      skipped.push(
        `${kind}: set BENCH_ECHO_MODEL to the echo model the running Marquee serves`,
      );
  }
  return {
    origin,
    metricsUrl:
      process.env.MARQUEE_METRICS_URL ?? 'http://127.0.0.1:9465/metrics',
    apiKey,
    models,
    skipped,
    mode: 'running',
    settings: {},
    stop: async () => undefined,
  };
}

/** Starts (or, with MARQUEE_BASE_URL, finds) the Marquee to measure. */
export async function startMarquee(
  log: (line: string) => void,
): Promise<MarqueeTarget> {
  if (process.env.MARQUEE_BASE_URL)
    return runningMarquee(process.env.MARQUEE_BASE_URL);
  await ensureRedis(REDIS_URL);
  const run = Date.now().toString(36);
  const workDir = mkdtempSync(join(tmpdir(), 'marquee-gateway-bench-'));
  const modelsDir = join(workDir, 'models');
  let db: TestDatabase | undefined;
  const children: ChildProcess[] = [];
  const stop = async () => {
    await stopAll(children);
    await db?.drop();
    if (!process.env.BENCH_KEEP)
      rmSync(workDir, { recursive: true, force: true });
  };
  try {
    db = await createTestDatabase('gateway_bench');
    const models: MarqueeModel[] = [];
    const skipped: string[] = [];
    for (const kind of wantedKinds()) {
      const name = `${kind}-bench-${run}`;
      const dir = join(modelsDir, name);
      if (kind === 'marquee-tiny') {
        // The demo model's shape, exactly as `npm start` makes it.
        makeCausalLm({
          out: dir,
          name,
          layers: 2,
          hidden: 64,
          heads: 4,
          vocab: 512,
          context: 512,
          dtype: 'fp32',
          seed: 42,
        });
      } else {
        const made = makeEchoModel(dir, name);
        if (!made.ok) {
          skipped.push(`echo: ${made.why}`);
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
      }
      models.push({ kind, name });
    }
    let seed: Awaited<ReturnType<typeof seedDemo>> | undefined;
    for (const model of models)
      seed = await seedDemo({
        databaseUrl: db.url,
        modelDir: join(modelsDir, model.name),
        keyFile: join(workDir, 'key.json'),
        tenantName: `gateway-bench-${run}`,
      });
    if (!seed) throw new Error('no Marquee model to measure');
    log('building gateway and worker (cached when nothing changed)...');
    buildApps();
    const [port, grpcPort, metricsPort, workerMetricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const token = `mqa_bench_${randomBytes(16).toString('hex')}`;
    const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';
    const settings = {
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: logLevel,
      REDIS_URL,
    };
    children.push(
      startApp(
        'gateway',
        { ...settings, DATABASE_URL: db.url, MARQUEE_ADMIN_TOKEN: token },
        workDir,
      ),
      startApp(
        'worker',
        {
          REDIS_URL,
          LOG_LEVEL: logLevel,
          MODELS_DIR: modelsDir,
          METRICS_PORT: String(workerMetricsPort),
          METRICS_HOST: '127.0.0.1',
        },
        workDir,
      ),
    );
    const origin = `http://127.0.0.1:${port}`;
    const alive = () =>
      children.every((c) => c.exitCode === null && c.signalCode === null);
    try {
      await waitForOk(`${origin}/health/ready`, 120_000, alive);
    } catch (error) {
      throw new Error(
        `Marquee did not start (${(error as Error).message}); logs in ${workDir} (kept with BENCH_KEEP=1)`,
      );
    }
    const plan = await admin(origin, token, 'POST', 'plans', {
      name: `gateway-bench-${run}`,
      ...BENCH_PLAN,
    });
    await admin(origin, token, 'PATCH', `tenants/${seed.tenantId}`, {
      plan_id: plan.id,
    });
    for (const model of models)
      await waitForModel(origin, seed.apiKey, model.name);
    log(
      `Marquee up at ${origin} (logs in ${workDir}), models ${models.map((m) => m.name).join(', ')}`,
    );
    return {
      origin,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      apiKey: seed.apiKey,
      models,
      skipped,
      mode: 'own',
      settings: {
        ...settings,
        WORKER: `1 worker, default settings, MODELS_DIR with ${models.length} model(s)`,
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
