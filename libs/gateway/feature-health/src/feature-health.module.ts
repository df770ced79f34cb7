import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { DrainState, GatewayMetrics } from '@marquee/shared/util-observability';
import { GracefulShutdown } from './graceful-shutdown.service';
import { HealthController } from './health.controller';
import { MetricsServer } from './metrics-server';
import { RequestContextInterceptor } from './request-context.interceptor';

/**
 * Operations for the gateway: `/health/{live,ready}`, `/metrics` (on METRICS_PORT), graceful shutdown, and
 * request context in logs. Global, so any feature can record metrics (`GatewayMetrics`, e.g.
 * `recordAdmissionRefusal`) without importing this module.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    GatewayMetrics,
    DrainState,
    GracefulShutdown,
    MetricsServer,
    { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
  ],
  exports: [GatewayMetrics, DrainState, GracefulShutdown, MetricsServer],
})
export class FeatureHealthModule {}
