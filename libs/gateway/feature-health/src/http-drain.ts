import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, type MarqueeRequestState } from '@marquee/gateway/util-http';
import type { GatewayMetrics } from '@marquee/shared/util-observability';

/** Probe and scrape paths: always answered, never counted as work in flight. */
const OPS_PATHS = ['/health/', '/metrics'];

const isOpsPath = (url: string) => OPS_PATHS.some((p) => url.startsWith(p));

/** Writes one structured log line (pino's `(fields, message)` order). */
export type LogLine = (
  fields: Record<string, unknown>,
  message: string,
) => void;

/** The tenant, model and end user of a request, where known (after the key guard; from the body). */
export function requestContext(
  request: FastifyRequest,
): Record<string, string> {
  const fields: Record<string, string> = {};
  const principal = (request as unknown as MarqueeRequestState).principal;
  if (principal) fields.tenantId = principal.tenantId;
  const body = request.body;
  if (body && typeof body === 'object') {
    const { model, user, safety_identifier } = body as Record<string, unknown>;
    if (typeof model === 'string') fields.model = model.slice(0, 64);
    // The caller's own id for its end user, so abuse can be traced to it (OpenAI's `user`).
    const endUser = safety_identifier ?? user;
    if (typeof endUser === 'string') fields.endUser = endUser.slice(0, 64);
  }
  return fields;
}

/**
 * Tracks the HTTP exchanges in flight (SSE streams included: a hijacked reply counts until its
 * socket's response closes) and, once told to refuse, answers new API requests with 503 in
 * OpenAI's error shape so clients retry elsewhere. Also feeds the HTTP latency histogram.
 */
export class HttpDrain {
  private open = 0;
  private refusing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly log: LogLine = () => undefined,
  ) {}

  get inFlight(): number {
    return this.open;
  }

  /** From now on, new API requests get 503 (`server_shutting_down`). */
  refuseNew(): void {
    this.refusing = true;
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`; true when idle. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.open === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.push(onIdle);
    });
  }

  /** Registers the Fastify hooks. Call before `listen`. */
  install(instance: FastifyInstance): void {
    instance.addHook('onRequest', (request, reply, done) => {
      const url = request.url;
      if (isOpsPath(url)) return done();
      if (this.refusing) {
        const error = ApiError.unavailable(
          'This server is shutting down; retry the request.',
          'server_shutting_down',
        );
        this.metrics.recordAdmissionRefusal('draining');
        void reply
          .status(error.status)
          .header('connection', 'close')
          .header('retry-after', '1')
          .send(error.toBody());
        return;
      }
      this.open += 1;
      this.metrics.httpInFlight.inc();
      const started = process.hrtime.bigint();
      reply.raw.once('close', () => {
        this.open -= 1;
        this.metrics.httpInFlight.dec();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = request.routeOptions.url ?? 'unmatched';
        const statusCode = reply.raw.statusCode;
        this.metrics.httpDuration.observe(
          { method: request.method, route, status_code: String(statusCode) },
          seconds,
        );
        this.log(
          {
            requestId: request.id,
            ...requestContext(request),
            method: request.method,
            route,
            statusCode,
            // The client went away before the response ended (a cancelled stream).
            aborted: !reply.raw.writableFinished,
            responseTimeMs: Math.round(seconds * 1000),
          },
          'request completed',
        );
        if (this.open === 0) for (const waiter of this.idleWaiters) waiter();
      });
      done();
    });
  }
}
