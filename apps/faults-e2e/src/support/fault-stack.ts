import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '@marquee/gateway/feature-admin';
import {
  type MakeCausalLmOptions,
  makeCausalLm,
} from '@marquee/shared/model-maker';
import {
  buildApps,
  createDatabaseOn,
  freePort,
} from '@marquee/shared/util-setup';
import OpenAI from 'openai';
import { GatewayProcess, WorkerProcess } from './app-process';
import { BUILT_FLAG } from './global-setup';
import { Ledger } from './ledger';
import { PostgresServer } from './postgres-server';
import { RedisServer } from './redis-server';

/** Where the logs of every run stay after the test (the temporary folders do not). */
/** A plan that no fault test's traffic reaches: only the faults turn requests away. */
export const ROOMY_PLAN = {
  requests_per_minute: 100_000,
  tokens_per_minute: 100_000_000,
  max_concurrent_requests: 1000,
};

export const LOG_ROOT = join(tmpdir(), 'marquee-faults-e2e-logs');

export interface FaultStackOptions {
  /** Names the database, model, tenant and log folder. */
  label: string;
  workers?: number;
  gateways?: number;
  /** Extra environment of every worker (MAX_BATCH_SIZE, ...). */
  workerEnv?: NodeJS.ProcessEnv;
  gatewayEnv?: NodeJS.ProcessEnv;
  /** Overrides of the generated model's shape. */
  model?: Partial<MakeCausalLmOptions>;
}

/**
 * How long a refusal (503 while a dependency is down) may take, seen from the client: the issue
 * asks for "a second or two"; the extra half second is the test process's own overhead (it runs
 * dozens of streams on the same two cores).
 */
export const REFUSAL_BUDGET_MS = 2500;

/** A plan's limits, as the admin API takes them. */
export interface PlanLimits {
  requests_per_minute: number;
  tokens_per_minute: number;
  max_concurrent_requests: number;
}

/**
 * Everything one fault-test file runs on, all its own: a redis-server and a PostgreSQL cluster
 * on free ports, a migrated and seeded database, a generated model, and the built gateway(s)
 * and workers as real processes. `dispose()` stops every process and deletes every temporary
 * folder, whatever state the test left them in.
 */
export class FaultStack {
  readonly gateways: GatewayProcess[] = [];
  readonly workers: WorkerProcess[] = [];
  readonly adminToken = `mqa_faults_${randomBytes(12).toString('hex')}`;
  readonly logDir: string;
  redis!: RedisServer;
  postgres!: PostgresServer;
  databaseUrl = '';
  model = '';
  apiKey = '';
  tenantId = '';
  private readonly workDir: string;
  private planId: string | null = null;
  private ledgerReader: Ledger | null = null;

  private constructor(private readonly options: FaultStackOptions) {
    this.workDir = mkdtempSync(
      join(tmpdir(), `marquee-faults-${options.label}-`),
    );
    this.logDir = join(
      LOG_ROOT,
      `${options.label}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    );
    mkdirSync(this.logDir, { recursive: true });
  }

  /**
   * Starts it all. On any failure, what did start is stopped again before the error is thrown.
   */
  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const stack = new FaultStack(options);
    try {
      await stack.boot();
    } catch (error) {
      await stack.dispose();
      throw error;
    }
    return stack;
  }

  private async boot(): Promise<void> {
    const { label } = this.options;
    const redisDir = join(this.workDir, 'redis');
    mkdirSync(redisDir);
    this.redis = new RedisServer(await freePort(), redisDir, this.logDir);
    await this.redis.start();
    this.postgres = await PostgresServer.create(await freePort());
    await this.postgres.start();
    this.databaseUrl = await createDatabaseOn(
      this.postgres.serverUrl,
      `marquee_faults_${label.replace(/\W/g, '_')}`,
    );

    const modelsDir = join(this.workDir, 'models');
    const name = `faults-${label}`;
    const modelDir = join(modelsDir, name);
    makeCausalLm({
      out: modelDir,
      name,
      layers: 2,
      hidden: 128,
      heads: 4,
      vocab: 512,
      context: 256,
      dtype: 'fp32',
      seed: 7,
      ...this.options.model,
    });
    const seed = await seedDemo({
      databaseUrl: this.databaseUrl,
      modelDir,
      keyFile: join(this.workDir, 'key.json'),
      tenantName: `faults-${label}`,
    });
    this.model = seed.model;
    this.apiKey = seed.apiKey;
    this.tenantId = seed.tenantId;

    // `npm run test:faults` builds once for every file (global-setup.ts).
    if (!process.env[BUILT_FLAG] && !process.env.MARQUEE_FAULTS_DIST)
      buildApps();
    const starting: Promise<void>[] = [];
    for (let i = 0; i < (this.options.gateways ?? 1); i++) {
      const gateway = new GatewayProcess(
        `gateway-${i + 1}`,
        await freePort(),
        await freePort(),
        await freePort(),
        this.logDir,
        {
          DATABASE_URL: this.databaseUrl,
          REDIS_URL: this.redis.url,
          MARQUEE_ADMIN_TOKEN: this.adminToken,
          SHUTDOWN_GRACE_MS: '5000',
          ...this.options.gatewayEnv,
        },
      );
      this.gateways.push(gateway);
      starting.push(gateway.start());
    }
    for (let i = 0; i < (this.options.workers ?? 2); i++) {
      const worker = new WorkerProcess(
        `worker-${i + 1}`,
        await freePort(),
        this.logDir,
        {
          REDIS_URL: this.redis.url,
          MODELS_DIR: modelsDir,
          WORKER_MODELS: name,
          // Two cores for everything: one ONNX Runtime thread per worker.
          INTRA_OP_THREADS: '1',
          SHUTDOWN_GRACE_MS: '5000',
          // A pool of both runtimes (as during a rollout): the second worker runs its model
          // through Marquee's ONNX Runtime addon, so requests moved after a kill cross them.
          ...(i === 1 ? { ORT_RUNTIME: 'addon' } : {}),
          ...this.options.workerEnv,
        },
      );
      this.workers.push(worker);
      starting.push(worker.start());
    }
    await Promise.all(starting);
    for (const gateway of this.gateways)
      await gateway.waitReady(this.workers.length);
  }

  get gateway(): GatewayProcess {
    return this.gateways[0];
  }

  /** The official client against gateway `index`, without retries so every status reaches the test. */
  client(index = 0, apiKey = this.apiKey): OpenAI {
    return new OpenAI({
      baseURL: `${this.gateways[index].origin}/v1`,
      apiKey,
      maxRetries: 0,
      timeout: 60_000,
    });
  }

  /** Calls the admin API with the bootstrap admin token; throws unless 2xx. */
  async admin<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: object,
  ): Promise<T> {
    const response = await fetch(`${this.gateway.origin}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`admin ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Puts the tenant on a plan with these limits (created once, changed afterwards). */
  async setPlan(limits: PlanLimits): Promise<void> {
    if (this.planId) {
      await this.admin('PATCH', `/plans/${this.planId}`, limits);
      return;
    }
    const plan = await this.admin<{ id: string }>('POST', '/plans', {
      name: `faults-${this.options.label}`,
      ...limits,
    });
    this.planId = plan.id;
    await this.admin('PATCH', `/tenants/${this.tenantId}`, {
      plan_id: plan.id,
    });
  }

  /** The usage ledger, read straight from PostgreSQL. */
  get ledger(): Ledger {
    this.ledgerReader ??= new Ledger(this.databaseUrl);
    return this.ledgerReader;
  }

  /** Stops every process (SIGKILL: nothing here needs a graceful end) and deletes the temporary folders. */
  /** Every process log this stack wrote (non-empty ones). */
  logFiles(): string[] {
    return readdirSync(this.logDir)
      .map((name) => join(this.logDir, name))
      .filter((file) => readFileSync(file).length > 0);
  }

  /**
   * The process logs (gateways, workers, Redis, PostgreSQL) that contain a secret this stack
   * used: the tenant key (or its secret part after the display prefix) or the admin token.
   */
  logsWithSecrets(): string[] {
    // `mq_` and 8 characters are the key's display prefix, which may be logged.
    const secrets = [
      this.apiKey,
      this.apiKey.slice(11),
      this.adminToken,
    ].filter((secret) => secret.length >= 16);
    return this.logFiles().filter((file) => {
      const text = readFileSync(file, 'utf8');
      return secrets.some((secret) => text.includes(secret));
    });
  }

  async dispose(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, action: () => Promise<void>) => {
      try {
        await action();
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`);
      }
    };
    for (const app of [...this.gateways, ...this.workers])
      await attempt(`kill ${app.name}`, () => app.kill());
    await attempt('close the ledger', async () => this.ledgerReader?.close());
    if (this.redis) await attempt('kill redis-server', () => this.redis.kill());
    if (this.postgres)
      await attempt('stop PostgreSQL', () => this.postgres.dispose());
    rmSync(this.workDir, { recursive: true, force: true });
    if (problems.length)
      throw new Error(`faults-e2e clean-up: ${problems.join('; ')}`);
  }
}
