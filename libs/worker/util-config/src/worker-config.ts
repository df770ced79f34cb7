import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Every environment variable the worker reads, validated once at boot. */
export const workerEnvSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default(DEFAULT_REDIS_URL),
  /** Folder of model folders (each with a marquee.json). */
  MODELS_DIR: z.string().min(1).default('models'),
  /** Comma-separated model names to serve; empty serves every model found in MODELS_DIR. */
  WORKER_MODELS: z.string().default(''),
  /**
   * Comma-separated folders, besides MODELS_DIR, from which the admin API may load models
   * (`POST /admin/v1/models/{id}/load`); model folders anywhere else are refused.
   */
  MODEL_ROOTS: z.string().default(''),
  WORKER_ID: z.string().min(1).optional(),
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  /**
   * `cpu`: when EXECUTION_PROVIDER cannot start, serve from the CPU with a warning. `none`
   * (default): the model fails to load, and the worker says why.
   */
  EXECUTION_PROVIDER_FALLBACK: z.enum(['none', 'cpu']).default('none'),
  /**
   * What runs causal LMs: `onnxruntime-node` (default), or `addon`, Marquee's ONNX Runtime addon
   * (`npm run build:addon`), which keeps the KV cache in device memory between steps. When the
   * addon is not built, the worker warns and uses onnxruntime-node.
   */
  ORT_RUNTIME: z.enum(['onnxruntime-node', 'addon']).default('onnxruntime-node'),
  /** Most sequences one causal LM decodes together. */
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(1024).default(32),
  /** KV-cache memory each causal LM may reserve, in MiB. */
  KV_CACHE_MIB: z.coerce.number().int().min(1).default(2048),
  /** Prompt tokens per prefill run; longer prompts are prefilled in chunks of this many. */
  MAX_PREFILL_TOKENS: z.coerce.number().int().min(16).default(2048),
  /** Threads ONNX Runtime may use inside one operator; 0 lets it decide. */
  INTRA_OP_THREADS: z.coerce.number().int().min(0).default(0),
  /** Milliseconds between flushes of batched token frames to gateways. */
  FRAME_FLUSH_MS: z.coerce.number().int().min(0).max(1000).default(5),
  HEARTBEAT_MS: z.coerce.number().int().positive().default(5000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  /** Port of the worker's only HTTP server: `/metrics`, `/health/live`, `/health/ready`. 0 picks a free port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * On SIGTERM: how long running requests may go on before they are handed back to the queue
   * (or, when tokens were already streamed, ended as `worker_lost`), in ms.
   */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Resolved worker settings. */
export class WorkerConfig {
  readonly redisUrl: string;
  readonly modelsDir: string;
  readonly models: string[];
  /** Folders models may be loaded from while running: MODELS_DIR, then MODEL_ROOTS (absolute). */
  readonly modelRoots: string[];
  readonly workerId: string;
  readonly executionProvider: 'cpu' | 'cuda';
  readonly cpuFallback: boolean;
  readonly runtime: 'onnxruntime-node' | 'addon';
  /** Limits of each causal LM's continuous-batching scheduler. */
  readonly scheduler: {
    maxBatchSize: number;
    kvBudgetBytes: number;
    maxPrefillTokens: number;
  };
  readonly intraOpThreads: number;
  readonly frameFlushMs: number;
  readonly heartbeatMs: number;
  readonly logLevel: WorkerEnv['LOG_LEVEL'];
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly shutdownGraceMs: number;

  constructor(env: WorkerEnv) {
    this.redisUrl = env.REDIS_URL;
    this.modelsDir = resolve(env.MODELS_DIR);
    this.models = env.WORKER_MODELS.split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    this.modelRoots = [
      this.modelsDir,
      ...env.MODEL_ROOTS.split(',')
        .map((root) => root.trim())
        .filter(Boolean)
        .map((root) => resolve(root)),
    ];
    this.workerId = env.WORKER_ID ?? `${hostname()}-${process.pid}`;
    this.executionProvider = env.EXECUTION_PROVIDER;
    this.cpuFallback = env.EXECUTION_PROVIDER_FALLBACK === 'cpu';
    this.runtime = env.ORT_RUNTIME;
    this.scheduler = {
      maxBatchSize: env.MAX_BATCH_SIZE,
      kvBudgetBytes: env.KV_CACHE_MIB * 2 ** 20,
      maxPrefillTokens: env.MAX_PREFILL_TOKENS,
    };
    this.intraOpThreads = env.INTRA_OP_THREADS;
    this.frameFlushMs = env.FRAME_FLUSH_MS;
    this.heartbeatMs = env.HEARTBEAT_MS;
    this.logLevel = env.LOG_LEVEL;
    this.metricsPort = env.METRICS_PORT;
    this.metricsHost = env.METRICS_HOST;
    this.shutdownGraceMs = env.SHUTDOWN_GRACE_MS;
  }

  /** The settings as they may be logged (the Redis URL's password masked). */
  describe(): Record<string, string | number> {
    return {
      redisUrl: maskUrl(this.redisUrl),
      modelsDir: this.modelsDir,
      models: this.models.join(',') || '(all found)',
      modelRoots: this.modelRoots.join(','),
      workerId: this.workerId,
      executionProvider: this.executionProvider,
      executionProviderFallback: this.cpuFallback ? 'cpu' : 'none',
      ortRuntime: this.runtime,
      maxBatchSize: this.scheduler.maxBatchSize,
      kvCacheMiB: this.scheduler.kvBudgetBytes / 2 ** 20,
      maxPrefillTokens: this.scheduler.maxPrefillTokens,
      intraOpThreads: this.intraOpThreads,
      metricsPort: this.metricsPort,
      shutdownGraceMs: this.shutdownGraceMs,
      logLevel: this.logLevel,
    };
  }

  /** Validates `env` (default `process.env`, the one place the worker reads it). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
    const parsed = workerEnvSchema.safeParse(env);
    if (!parsed.success) {
      // Name each bad variable, never its value (a Redis URL may hold a password).
      const problems = parsed.error.issues.map((issue) => {
        const name = issue.path.map(String).join('.');
        return env[name] === undefined || env[name] === ''
          ? `${name} is required`
          : `${name}: ${issue.message}`;
      });
      throw new Error(`invalid configuration: ${problems.join('; ')}`);
    }
    return new WorkerConfig(parsed.data);
  }
}

function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}
