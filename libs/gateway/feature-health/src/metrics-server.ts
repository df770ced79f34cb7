import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError, API_RESPONSE_HEADERS } from '@marquee/gateway/util-http';
import {
  GatewayMetrics,
  OpsHttpListener,
} from '@marquee/shared/util-observability';

/**
 * Prometheus exposition for this replica, on its own port (METRICS_PORT), never the API's: the
 * metrics name every tenant and its token counts, so only the cluster's scraper may reach them
 * (the Ingress routes the API port alone). It opens with the app and closes last.
 */
@Injectable()
export class MetricsServer
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(MetricsServer.name);
  private readonly listener = new OpsHttpListener((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      const error = ApiError.unknownUrl(request.method ?? 'GET', path);
      response.writeHead(error.status, {
        ...API_RESPONSE_HEADERS,
        'content-type': 'application/json; charset=utf-8',
      });
      response.end(JSON.stringify(error.toBody()));
      return;
    }
    this.metrics
      .scrape()
      .then(({ contentType, body }) => {
        response.writeHead(200, {
          ...API_RESPONSE_HEADERS,
          'content-type': contentType,
        });
        response.end(body);
      })
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'metrics scrape failed');
        response.writeHead(500, API_RESPONSE_HEADERS);
        response.end();
      });
  });

  constructor(
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** The port it listens on (useful when METRICS_PORT is 0); 0 when it is not listening. */
  get port(): number {
    return this.listener.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.listener.listen(this.config.metricsPort, this.config.host);
    } catch (error) {
      // The API still serves; a scraper that finds nothing is how operators notice.
      this.logger.error(
        { err: error, metricsPort: this.config.metricsPort },
        `metrics server could not listen on port ${this.config.metricsPort} (set METRICS_PORT to a free port): ${(error as Error).message}`,
      );
      return;
    }
    this.logger.log(
      `metrics on http://${this.config.host}:${this.port}/metrics`,
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.listener.close();
  }
}
