import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  createRegistry,
  INTER_TOKEN_BUCKETS,
  LATENCY_BUCKETS,
} from './metrics-registry';
import { HandledFailures } from './handled-failures';

/**
 * Why the gateway turned a request away before queueing it. The billing/quotas side reports
 * these through {@link GatewayMetrics.recordAdmissionRefusal}; free-form strings are accepted
 * so a new reason needs no change here, but keep the set small (it is a label).
 */
export type AdmissionRefusalReason =
  | 'requests_per_minute'
  | 'tokens_per_minute'
  | 'concurrency'
  | 'budget'
  | 'draining'
  | 'queue_unavailable'
  | (string & {});

/**
 * Where a request's time goes, stage by stage, as the gateway sees it:
 * `auth` (arrival to the runner: HTTP parsing, the key, validation), `admission` (model lookup,
 * live-worker check, quotas and budget), `enqueue` (the job onto its queue), `queue_wait` (until
 * a worker took it), `worker_pickup` (the worker's checks and tokenization before it starts),
 * `first_token`, `last_token` (first token to the end), `report` (a report batch's way over the
 * worker link), `settlement` (the admission released, beside the answer: not part of its
 * latency), `response` (the last event to the last bytes written).
 */
export type RequestStage =
  | 'auth'
  | 'admission'
  | 'enqueue'
  | 'queue_wait'
  | 'worker_pickup'
  | 'first_token'
  | 'last_token'
  | 'report'
  | 'settlement'
  | 'response';

/** Sub-millisecond to seconds: the stages of a fast request are fractions of a millisecond. */
const STAGE_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** The gateway's Prometheus metrics (served at `/metrics`). */
@Injectable()
export class GatewayMetrics {
  readonly registry: Registry = createRegistry('gateway');

  /** Whole HTTP exchanges, SSE streams included (so a stream's duration is its length). */
  readonly httpDuration = new Histogram({
    name: 'marquee_http_request_duration_seconds',
    help: 'HTTP request duration, from arrival to the last byte sent',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly requestStage = new Histogram({
    name: 'marquee_request_stage_seconds',
    help: 'Time of each stage of an inference request (see RequestStage)',
    labelNames: ['stage'] as const,
    buckets: STAGE_BUCKETS,
    registers: [this.registry],
  });

  /** Records one stage of a request. */
  recordStage(stage: RequestStage, seconds: number): void {
    this.requestStage.observe({ stage }, seconds);
  }

  readonly httpInFlight = new Gauge({
    name: 'marquee_http_requests_in_flight',
    help: 'HTTP requests (streams included) currently open',
    registers: [this.registry],
  });

  readonly timeToFirstToken = new Histogram({
    name: 'marquee_time_to_first_token_seconds',
    help: 'From the request arriving to the first generated token reaching the gateway',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly interTokenLatency = new Histogram({
    name: 'marquee_inter_token_latency_seconds',
    help: 'Gap between successive tokens of one choice, as relayed by the gateway',
    labelNames: ['model'] as const,
    buckets: INTER_TOKEN_BUCKETS,
    registers: [this.registry],
  });

  readonly promptTokens = new Counter({
    name: 'marquee_prompt_tokens_total',
    help: 'Prompt tokens of requests that ran, by model and tenant',
    labelNames: ['model', 'tenant'] as const,
    registers: [this.registry],
  });

  readonly completionTokens = new Counter({
    name: 'marquee_completion_tokens_total',
    help: 'Generated tokens delivered, by model and tenant',
    labelNames: ['model', 'tenant'] as const,
    registers: [this.registry],
  });

  readonly requests = new Counter({
    name: 'marquee_inference_requests_total',
    help: 'Inference requests that ended, by model and outcome (finished or a failure code)',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly admissionRefusals = new Counter({
    name: 'marquee_admission_refusals_total',
    help: 'Requests refused before queueing, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'marquee_draining',
    help: '1 while this process is shutting down',
    registers: [this.registry],
  });

  readonly liveWorkers = new Gauge({
    name: 'marquee_live_workers',
    help: 'Workers announcing themselves in Redis, as seen by this gateway',
    registers: [this.registry],
  });

  /**
   * POSTs carrying an `Idempotency-Key`, by outcome: on arrival `claimed`, `replayed`,
   * `in_progress` (409), `mismatch` (422), `invalid` (400), `unavailable` (503); as a claimed
   * request ends `stored`, `released`, `too_large`, `store_failed`; `lease_lost` and
   * `renew_failed` while it runs.
   */
  readonly idempotency = new Counter({
    name: 'marquee_idempotency_requests_total',
    help: 'POSTs with an Idempotency-Key, by outcome (replayed, in_progress, mismatch, stored, released, ...)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly handledFailureCount = new Counter({
    name: 'marquee_gateway_handled_failures_total',
    help: 'Failures the gateway handled on its own (a fallback, a retry, a 503), by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  /** Reports failures handled with a fallback: counted here, logged once per outage. */
  readonly failures = new HandledFailures(
    this.handledFailureCount,
    new Logger('HandledFailures'),
  );

  /** Counts a refused request (rate limit, quota, budget, ...). */
  recordAdmissionRefusal(reason: AdmissionRefusalReason): void {
    this.admissionRefusals.inc({ reason });
  }

  /** Records the token counts of a request that ran. */
  recordUsage(
    model: string,
    tenant: string,
    promptTokens: number,
    completionTokens: number,
  ): void {
    if (promptTokens > 0)
      this.promptTokens.inc({ model, tenant }, promptTokens);
    if (completionTokens > 0)
      this.completionTokens.inc({ model, tenant }, completionTokens);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return {
      contentType: this.registry.contentType,
      body: await this.registry.metrics(),
    };
  }
}
