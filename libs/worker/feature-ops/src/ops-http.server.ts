import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  OpsHttpListener,
  WorkerMetrics,
} from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { WorkerGauges } from './worker-gauges.service';
import { WorkerHealth } from './worker-health.service';

/**
 * The worker's only HTTP server (METRICS_PORT): `/metrics`, `/health/live`, `/health/ready`.
 * It opens first and closes last, so probes and scrapes see the whole drain.
 */
@Injectable()
export class OpsHttpServer
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(OpsHttpServer.name);
  private readonly listener = new OpsHttpListener((request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const json = (status: number, body: object) =>
      send(status, 'application/json; charset=utf-8', JSON.stringify(body));
    const path = (request.url ?? '/').split('?')[0];
    const answer = async () => {
      switch (path) {
        case '/metrics': {
          await this.gauges.refresh();
          const { contentType, body } = await this.metrics.scrape();
          return send(200, contentType, body);
        }
        case '/health/live':
          return json(200, { status: 'ok' });
        case '/health/ready': {
          const { status, body } = await this.health.ready();
          return json(status, body);
        }
        default:
          return json(404, { error: 'not found' });
      }
    };
    answer().catch((error: unknown) =>
      json(500, { error: (error as Error).message }),
    );
  });

  constructor(
    private readonly config: WorkerConfig,
    private readonly metrics: WorkerMetrics,
    private readonly gauges: WorkerGauges,
    private readonly health: WorkerHealth,
  ) {}

  /** The port it listens on (useful when METRICS_PORT is 0). */
  get port(): number {
    return this.listener.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.listen(
      this.config.metricsPort,
      this.config.metricsHost,
    );
    this.logger.log(
      `metrics and health on http://${this.config.metricsHost}:${this.port}`,
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.listener.close();
  }
}
