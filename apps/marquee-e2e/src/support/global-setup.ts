/**
 * Starts the system under test once for the whole e2e run: a fresh `marquee_e2e_<pid>` database, a
 * tiny model under a unique name (queues are per model and Redis is shared, so no other worker
 * can take these jobs), the gateway and one worker built by Nx and started on free ports.
 * Process logs go to files (paths printed on failure); the specs get the stack through
 * environment variables (see stack.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningStack, setRunningStack, stopAll } from './running-stack';
import { freePort } from './free-port';
import { type PreparedStack, publishStack } from './stack';

/** The repository root. This file loads without the workspace's path aliases (see prepare.ts). */
const ROOT = join(__dirname, '..', '..', '..', '..');

// A database per run, so concurrent runs (a developer's and CI's, say) never share one.
const DATABASE_URL = `postgresql://postgres@127.0.0.1:5432/marquee_e2e_${process.pid}`;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const READY_TIMEOUT_MS = 60_000;
const LOG_DIR = join(tmpdir(), 'marquee-e2e-logs');

/** Runs prepare.ts under tsx (which resolves the workspace's path aliases): data, model, build. */
function prepare(workDir: string, model: string): PreparedStack {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(__dirname, 'prepare.ts'),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        E2E_DATABASE_URL: DATABASE_URL,
        E2E_REDIS_URL: REDIS_URL,
        E2E_WORK_DIR: workDir,
        E2E_MODEL: model,
      },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0)
    throw new Error(`e2e prepare failed:\n${result.stdout}${result.stderr}`);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PreparedStack;
}

function start(
  name: 'gateway' | 'worker',
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; log: string } {
  const log = join(LOG_DIR, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'apps', name, 'main.js')],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  return { child, log };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until the gateway is ready and some live worker serves `model`. */
async function waitUntilServing(
  origin: string,
  model: string,
  children: ChildProcess[],
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const exited = children.find(
      (c) => c.exitCode !== null || c.signalCode !== null,
    );
    if (exited) throw new Error(`a process exited during startup (${last})`);
    try {
      const response = await fetch(`${origin}/health/ready`);
      const body = (await response.json()) as {
        checks?: { models?: string[] };
      };
      if (response.ok && body.checks?.models?.includes(model)) return;
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `the stack was not ready after ${READY_TIMEOUT_MS} ms (last: ${last})`,
  );
}

export default async function globalSetup(): Promise<void> {
  mkdirSync(LOG_DIR, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'marquee-e2e-'));
  const model = `e2e-tiny-${process.pid}`;
  let prepared: PreparedStack;
  try {
    prepared = prepare(workDir, model);
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }

  const [port, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const adminToken = `mqa_e2e_${randomBytes(18).toString('base64url')}`;
  const common = { DATABASE_URL, REDIS_URL, LOG_LEVEL: 'info' };
  const gateway = start('gateway', {
    ...common,
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    GRPC_ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}`,
    MARQUEE_ADMIN_TOKEN: adminToken,
    QUEUE_TIMEOUT_MS: '20000',
    METRICS_PORT: String(metricsPort),
  });
  const worker = start('worker', {
    ...common,
    METRICS_PORT: String(await freePort()),
    MODELS_DIR: prepared.modelsDir,
    // The causal LM and its embedding sibling (see prepare.ts).
    WORKER_MODELS: `${model},${model}-embed`,
    // Through Marquee's ONNX Runtime addon, which `npm test` builds first (runtime.e2e-spec.ts
    // checks it is used and gives what onnxruntime-node gives).
    ORT_RUNTIME: 'addon',
  });
  const running: RunningStack = {
    children: [gateway.child, worker.child],
    workDir,
    model,
    redisUrl: REDIS_URL,
    databaseUrl: DATABASE_URL,
  };
  setRunningStack(running);

  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(origin, model, running.children);
  } catch (error) {
    await stopAll(running.children);
    rmSync(workDir, { recursive: true, force: true });
    throw new Error(
      `${(error as Error).message}\n--- ${gateway.log}\n${tail(gateway.log)}\n--- ${worker.log}\n${tail(worker.log)}`,
    );
  }
  publishStack({
    origin,
    metricsOrigin: `http://127.0.0.1:${metricsPort}`,
    apiKey: prepared.apiKey,
    adminToken,
    tenantId: prepared.tenantId,
    model,
    databaseUrl: DATABASE_URL,
    modelsDir: prepared.modelsDir,
    workerLog: worker.log,
  });
}
