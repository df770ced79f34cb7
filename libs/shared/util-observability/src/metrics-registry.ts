import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of its own per process role (never prom-client's global one, so tests can build
 * several side by side), with Node's default process metrics under their standard names
 * (`process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`)
 * so stock dashboards work, and a `service` label on every series.
 */
export function createRegistry(service: 'gateway' | 'worker'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Latency buckets in seconds for HTTP requests and time to first token (1 ms to 2 min). */
export const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];

/** Buckets in seconds for the gap between tokens (0.5 ms to 2 s). */
export const INTER_TOKEN_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2,
];

/** Buckets in seconds for queue wait (1 ms to 5 min). */
export const QUEUE_WAIT_BUCKETS = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
