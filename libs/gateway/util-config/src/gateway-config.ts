import { hostname } from 'node:os';
import { z } from 'zod';

/** Defaults match the README's quickstart: services on their standard local ports. */
export const DEFAULT_DATABASE_URL =
  'postgresql://postgres@127.0.0.1:5432/marquee';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const port = z.coerce.number().int().min(0).max(65535);

/** Where the gateway serves `/metrics` unless METRICS_PORT says otherwise. */
export const DEFAULT_METRICS_PORT = 9465;

/**
 * Browser origins allowed to call `/v1/*` across origins: `'*'` for any, else exact origins
 * (`https://app.example.com`, scheme, host and port only); empty for none.
 */
export type CorsOrigins = '*' | readonly string[];

/** `MARQUEE_CORS_ORIGINS`: unset or empty is none; `*` any; else a comma-separated list. */
const corsOrigins = z
  .string()
  .default('')
  .transform((value, ctx): CorsOrigins => {
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 1 && entries[0] === '*') return '*';
    const bad = entries.findIndex((entry) => !isOrigin(entry));
    if (bad !== -1)
      ctx.addIssue({
        code: 'custom',
        message: `entry ${bad + 1} is not an origin: give '*' alone, or origins such as https://app.example.com (http or https, host and port only, no path or trailing slash), comma-separated`,
      });
    return entries;
  });

function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return /^https?:$/.test(url.protocol) && url.origin === entry;
  } catch {
    return false;
  }
}

/** Every environment variable the gateway reads, validated once at boot. */
export const gatewayEnvSchema = z
  .object({
    PORT: port.default(8080),
    HOST: z.string().default('0.0.0.0'),
    GRPC_PORT: port.default(50051),
    /**
     * Port of the Prometheus scrape endpoint (`/metrics`), apart from the API port so it is never
     * public. 0 picks a free port. The default is one above the worker's (9464), so a gateway and
     * a worker on one host (`npm start`) do not collide.
     */
    METRICS_PORT: port.default(DEFAULT_METRICS_PORT),
    /** Address workers dial to reach this replica's gRPC server (host:port). */
    GRPC_ADVERTISE_ADDRESS: z.string().optional(),
    GATEWAY_ID: z.string().min(1).optional(),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .default(DEFAULT_DATABASE_URL),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default(DEFAULT_REDIS_URL),
    /** Secret: never logged. */
    MARQUEE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
    /** How long a request may wait for a worker to take it before 503, in ms. */
    QUEUE_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /**
     * On SIGTERM: how long open requests and streams may run before the process exits anyway,
     * in ms. Keep it below the orchestrator's kill deadline (Kubernetes'
     * `terminationGracePeriodSeconds`).
     */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
    /**
     * On SIGTERM: how long to keep accepting new requests while readiness already reports
     * draining, in ms, so load balancers stop routing here first. 0 refuses new work at once.
     */
    SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(0),
    /**
     * Browser origins allowed to call `/v1/*` (CORS): `*` for any, or a comma-separated list of
     * origins. Default none: browsers may not call the API from another origin. `npm start`
     * sets `*` for the demo. The admin API and dashboard never allow other origins.
     */
    MARQUEE_CORS_ORIGINS: corsOrigins,
  })
  .superRefine((env, ctx) => {
    if (env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT)
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message:
          'must differ from PORT (metrics are never served on the API port)',
      });
  });

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

/** Resolved gateway settings. */
export class GatewayConfig {
  readonly port: number;
  readonly host: string;
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly grpcAdvertiseAddress: string;
  readonly gatewayId: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly adminToken: string;
  readonly queueTimeoutMs: number;
  readonly logLevel: GatewayEnv['LOG_LEVEL'];
  readonly shutdownGraceMs: number;
  readonly shutdownDelayMs: number;
  readonly corsOrigins: CorsOrigins;

  constructor(env: GatewayEnv) {
    this.port = env.PORT;
    this.host = env.HOST;
    this.grpcPort = env.GRPC_PORT;
    this.metricsPort = env.METRICS_PORT;
    this.grpcAdvertiseAddress =
      env.GRPC_ADVERTISE_ADDRESS ?? `127.0.0.1:${env.GRPC_PORT}`;
    this.gatewayId = env.GATEWAY_ID ?? `${hostname()}-${process.pid}`;
    this.databaseUrl = env.DATABASE_URL;
    this.redisUrl = env.REDIS_URL;
    this.adminToken = env.MARQUEE_ADMIN_TOKEN;
    this.queueTimeoutMs = env.QUEUE_TIMEOUT_MS;
    this.logLevel = env.LOG_LEVEL;
    this.shutdownGraceMs = env.SHUTDOWN_GRACE_MS;
    this.shutdownDelayMs = env.SHUTDOWN_DELAY_MS;
    this.corsOrigins = env.MARQUEE_CORS_ORIGINS;
  }

  /** The settings as they may be logged: secrets replaced, URL passwords masked. */
  describe(): Record<string, string | number> {
    return {
      port: this.port,
      host: this.host,
      grpcPort: this.grpcPort,
      metricsPort: this.metricsPort,
      grpcAdvertiseAddress: this.grpcAdvertiseAddress,
      gatewayId: this.gatewayId,
      databaseUrl: maskUrl(this.databaseUrl),
      redisUrl: maskUrl(this.redisUrl),
      adminToken: '[secret]',
      queueTimeoutMs: this.queueTimeoutMs,
      logLevel: this.logLevel,
      shutdownGraceMs: this.shutdownGraceMs,
      shutdownDelayMs: this.shutdownDelayMs,
      corsOrigins:
        typeof this.corsOrigins === 'string'
          ? this.corsOrigins
          : this.corsOrigins.join(',') || 'none',
    };
  }

  /**
   * Validates `env` (default `process.env`, the one place the gateway reads it). Throws an
   * error whose message names each bad variable and never echoes a value.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
    const parsed = gatewayEnvSchema.safeParse(env);
    if (!parsed.success)
      throw new Error(
        `invalid configuration: ${describeIssues(parsed.error.issues, env)}`,
      );
    return new GatewayConfig(parsed.data);
  }
}

/**
 * One line per bad variable, named, without its value ("MARQUEE_ADMIN_TOKEN is required",
 * "PORT: Too big: expected number to be <=65535").
 */
export function describeIssues(
  issues: readonly { path: PropertyKey[]; message: string }[],
  env: NodeJS.ProcessEnv,
): string {
  return issues
    .map((issue) => {
      const name = issue.path.map(String).join('.');
      return env[name] === undefined || env[name] === ''
        ? `${name} is required`
        : `${name}: ${issue.message}`;
    })
    .join('; ');
}

/** A URL with its password masked, for logs. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}
