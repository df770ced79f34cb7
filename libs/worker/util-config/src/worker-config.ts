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
  WORKER_ID: z.string().min(1).optional(),
  EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  /** Threads ONNX Runtime may use inside one operator; 0 lets it decide. */
  INTRA_OP_THREADS: z.coerce.number().int().min(0).default(0),
  /** Milliseconds between flushes of batched token frames to gateways. */
  FRAME_FLUSH_MS: z.coerce.number().int().min(0).max(1000).default(5),
  HEARTBEAT_MS: z.coerce.number().int().positive().default(5000),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Resolved worker settings. */
export class WorkerConfig {
  readonly redisUrl: string;
  readonly modelsDir: string;
  readonly models: string[];
  readonly workerId: string;
  readonly executionProvider: 'cpu' | 'cuda';
  readonly intraOpThreads: number;
  readonly frameFlushMs: number;
  readonly heartbeatMs: number;
  readonly logLevel: WorkerEnv['LOG_LEVEL'];

  constructor(env: WorkerEnv) {
    this.redisUrl = env.REDIS_URL;
    this.modelsDir = resolve(env.MODELS_DIR);
    this.models = env.WORKER_MODELS.split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    this.workerId = env.WORKER_ID ?? `${hostname()}-${process.pid}`;
    this.executionProvider = env.EXECUTION_PROVIDER;
    this.intraOpThreads = env.INTRA_OP_THREADS;
    this.frameFlushMs = env.FRAME_FLUSH_MS;
    this.heartbeatMs = env.HEARTBEAT_MS;
    this.logLevel = env.LOG_LEVEL;
  }

  /** Validates `env` (default `process.env`, the one place the worker reads it). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
    const parsed = workerEnvSchema.safeParse(env);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join('.')}: ${i.message}`,
      );
      throw new Error(`invalid configuration: ${problems.join('; ')}`);
    }
    return new WorkerConfig(parsed.data);
  }
}
