import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { e2eStack } from './stack';

const ROOT = join(__dirname, '..', '..', '..', '..');

/** Another replica of the gateway, sharing the e2e stack's PostgreSQL, Redis and workers. */
export interface Replica {
  origin: string;
  /** Its metrics server (`/metrics`), apart from the API. */
  metricsOrigin: string;
  stop(): Promise<void>;
}

export async function startSecondGateway(): Promise<Replica> {
  const stack = e2eStack();
  const [port, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const log = openSync(
    join(tmpdir(), 'marquee-e2e-logs', 'gateway-2.log'),
    'w',
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'dist', 'apps', 'gateway', 'main.js')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        METRICS_PORT: String(metricsPort),
        DATABASE_URL: stack.databaseUrl,
        MARQUEE_ADMIN_TOKEN: stack.adminToken,
        GATEWAY_ID: `e2e-replica-2-${process.pid}`,
      },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${origin}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('second gateway did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    origin,
    metricsOrigin: `http://127.0.0.1:${metricsPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
