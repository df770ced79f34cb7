import { join } from 'node:path';
import { ROOT } from '@marquee/shared/util-setup';
import { ServiceProcess } from './service-process';
import { GiveUp, until } from './until';

/**
 * The built apps: `dist/` of this checkout, or MARQUEE_FAULTS_DIST (a `dist/` built elsewhere,
 * e.g. from a clean worktree of a commit, while this tree is being edited).
 */
export const DIST = process.env.MARQUEE_FAULTS_DIST ?? join(ROOT, 'dist');

/** What the gateway's `/health/ready` says, in short. */
export interface Readiness {
  status: number;
  workers: number;
  models: string[];
  database: string;
  redis: string;
}

/** A built app (`dist/apps/<name>/main.js`) run as a real process, restartable. */
abstract class AppProcess {
  protected readonly process: ServiceProcess;

  constructor(
    name: string,
    app: 'gateway' | 'worker',
    logDir: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.process = new ServiceProcess(
      name,
      process.execPath,
      [join(DIST, 'apps', app, 'main.js')],
      join(logDir, `${name}.log`),
      env,
    );
  }

  get name(): string {
    return this.process.name;
  }

  get running(): boolean {
    return this.process.running;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** kill -9. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  stop(graceMs?: number) {
    return this.process.stop(graceMs);
  }

  /** Everything it logged, across restarts. */
  log(): string {
    return this.process.output();
  }

  /** Its log lines that are JSON, parsed (pino). */
  logRecords(): Record<string, unknown>[] {
    return this.log()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  protected async waitFor(what: string, url: string, timeoutMs: number) {
    await until(
      `${this.name} ${what}`,
      async () => {
        if (!this.process.running)
          throw new GiveUp(
            `${this.name} exited before ${what}:\n${this.log().slice(-3000)}`,
          );
        return (await fetch(url)).status === 200;
      },
      timeoutMs,
      200,
    );
  }
}

export class GatewayProcess extends AppProcess {
  constructor(
    name: string,
    readonly port: number,
    readonly grpcPort: number,
    readonly metricsPort: number,
    logDir: string,
    env: NodeJS.ProcessEnv,
  ) {
    super(name, 'gateway', logDir, {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      // Its own port for /metrics: the default (9465) would collide with other stacks.
      METRICS_PORT: String(metricsPort),
      GRPC_ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}`,
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until it answers `/health/live`. */
  async start(): Promise<void> {
    this.process.start();
    await this.waitFor('to answer', `${this.origin}/health/live`, 60_000);
  }

  async readiness(): Promise<Readiness> {
    const response = await fetch(`${this.origin}/health/ready`);
    const body = (await response.json()) as { checks?: Partial<Readiness> };
    return {
      status: response.status,
      workers: Number(body.checks?.workers ?? 0),
      models: body.checks?.models ?? [],
      database: String(body.checks?.database ?? 'unknown'),
      redis: String(body.checks?.redis ?? 'unknown'),
    };
  }

  /** Waits until `/health/ready` is 200 and counts at least `workers` live workers. */
  async waitReady(workers: number, timeoutMs = 60_000): Promise<void> {
    await until(
      `${this.name} to be ready with ${workers} worker(s)`,
      async () => {
        if (!this.process.running)
          throw new GiveUp(`${this.name} exited:\n${this.log().slice(-3000)}`);
        const ready = await this.readiness();
        return ready.status === 200 && ready.workers >= workers;
      },
      timeoutMs,
      200,
    );
  }
}

export class WorkerProcess extends AppProcess {
  constructor(
    name: string,
    readonly metricsPort: number,
    logDir: string,
    env: NodeJS.ProcessEnv,
  ) {
    super(name, 'worker', logDir, {
      ...env,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
  }

  get opsOrigin(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  /** Starts it and waits until its own `/health/ready` is 200 (model loaded, queues open). */
  async start(): Promise<void> {
    this.process.start();
    await this.waitFor('to be ready', `${this.opsOrigin}/health/ready`, 90_000);
  }

  /** Its Prometheus text. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.opsOrigin}/metrics`)).text();
  }
}

/** The sum of a metric's series in Prometheus exposition text (optionally one label value). */
export function metricSum(
  text: string,
  metric: string,
  label?: string,
): number {
  return text
    .split('\n')
    .filter(
      (line) =>
        (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) &&
        (label === undefined || line.includes(label)),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
