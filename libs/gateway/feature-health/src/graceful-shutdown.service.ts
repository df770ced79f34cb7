import { type INestApplication, Injectable, Logger } from '@nestjs/common';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { DrainState, GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { HttpDrain } from './http-drain';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway's SIGTERM sequence: readiness turns false at once; after SHUTDOWN_DELAY_MS new
 * API requests get 503; open requests and streams run until they end or SHUTDOWN_GRACE_MS
 * passes; then Nest closes (HTTP server, gRPC server the workers report to, connections).
 * The gRPC server stays up throughout, so tokens of open streams keep arriving.
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);
  private readonly http: HttpDrain;
  private running: Promise<void> | null = null;

  constructor(
    private readonly config: GatewayConfig,
    private readonly drain: DrainState,
    private readonly metrics: GatewayMetrics,
    private readonly pino: PinoLogger,
  ) {
    this.http = new HttpDrain(metrics, (fields, message) =>
      pino.info(fields, message),
    );
  }

  /**
   * Hooks request tracking into Fastify, and binds each request's log context (`requestId`;
   * `tenantId` and `model` are added once known) around its handler. Call before `listen`.
   */
  install(instance: FastifyInstance): void {
    this.http.install(instance);
    instance.addHook('preHandler', (request, _reply, done) => {
      this.pino.runInContext(() => done(), {
        bindings: { requestId: request.id },
      });
    });
  }

  /** Drains and closes `app`; repeated signals join the first run. */
  shutdown(app: INestApplication, signal: string): Promise<void> {
    this.running ??= this.run(app, signal);
    return this.running;
  }

  private async run(app: INestApplication, signal: string): Promise<void> {
    const { shutdownDelayMs, shutdownGraceMs } = this.config;
    this.drain.begin();
    this.metrics.draining.set(1);
    this.logger.log(
      {
        signal,
        inFlight: this.http.inFlight,
        shutdownDelayMs,
        shutdownGraceMs,
      },
      'draining',
    );
    if (shutdownDelayMs > 0) await sleep(shutdownDelayMs);
    this.http.refuseNew();
    const idle = await this.http.whenIdle(shutdownGraceMs);
    if (!idle)
      this.logger.warn(
        { inFlight: this.http.inFlight },
        'shutdown deadline reached with requests still open',
      );
    else this.logger.log('all requests finished');
    await app.close();
  }
}
