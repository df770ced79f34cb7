/** What the global setup hands to the specs, through environment variables. */
export interface E2eStack {
  /** Gateway origin, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  origin: string;
  /** The gateway's metrics server (`/metrics`), apart from the API. */
  metricsOrigin: string;
  apiKey: string;
  adminToken: string;
  tenantId: string;
  model: string;
  databaseUrl: string;
  /** The worker's MODELS_DIR (models generated there can be loaded through the admin API). */
  modelsDir: string;
  /** The worker's log file. */
  workerLog: string;
}

/** What prepare.ts reports back to the global setup. */
export interface PreparedStack {
  modelsDir: string;
  model: string;
  apiKey: string;
  tenantId: string;
}

const ENV = {
  origin: 'MARQUEE_E2E_ORIGIN',
  metricsOrigin: 'MARQUEE_E2E_METRICS_ORIGIN',
  apiKey: 'MARQUEE_E2E_API_KEY',
  adminToken: 'MARQUEE_E2E_ADMIN_TOKEN',
  tenantId: 'MARQUEE_E2E_TENANT_ID',
  model: 'MARQUEE_E2E_MODEL',
  databaseUrl: 'MARQUEE_E2E_DATABASE_URL',
  modelsDir: 'MARQUEE_E2E_MODELS_DIR',
  workerLog: 'MARQUEE_E2E_WORKER_LOG',
} as const satisfies Record<keyof E2eStack, string>;

/** Publishes the stack to the test workers (they inherit the setup's environment). */
export function publishStack(stack: E2eStack): void {
  for (const [field, name] of Object.entries(ENV))
    process.env[name] = stack[field as keyof E2eStack];
}

/** The running stack, as the global setup published it. */
export function e2eStack(): E2eStack {
  const read = (name: string) => {
    const value = process.env[name];
    if (!value)
      throw new Error(
        `${name} is not set: run the e2e specs through apps/marquee-e2e/jest.config.cjs`,
      );
    return value;
  };
  return {
    origin: read(ENV.origin),
    metricsOrigin: read(ENV.metricsOrigin),
    apiKey: read(ENV.apiKey),
    adminToken: read(ENV.adminToken),
    tenantId: read(ENV.tenantId),
    model: read(ENV.model),
    databaseUrl: read(ENV.databaseUrl),
    modelsDir: read(ENV.modelsDir),
    workerLog: read(ENV.workerLog),
  };
}
