import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataAccessDbModule } from '@marquee/gateway/data-access-db';
import { DataAccessQueueModule } from '@marquee/gateway/data-access-queue';
import { FeatureAdminModule } from '@marquee/gateway/feature-admin';
import { FeatureHealthModule } from '@marquee/gateway/feature-health';
import { FeatureIdempotencyModule } from '@marquee/gateway/feature-idempotency';
import { FeatureOpenAiModule } from '@marquee/gateway/feature-openai';
import { FeatureUsageModule } from '@marquee/gateway/feature-usage';
import { TransportGrpcModule } from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { OpenAiExceptionFilter } from '@marquee/gateway/util-http';
import { loggerParams } from '@marquee/shared/util-observability';
import { LoggerModule } from 'nestjs-pino';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot(
          loggerParams({
            service: 'gateway',
            instance: config.gatewayId,
            level: config.logLevel,
          }),
        ),
        DataAccessDbModule.forRoot(config.databaseUrl),
        DataAccessQueueModule.forRoot(config.redisUrl),
        TransportGrpcModule,
        FeatureOpenAiModule,
        FeatureAdminModule,
        FeatureUsageModule,
        FeatureHealthModule,
        FeatureIdempotencyModule.withAuth(),
      ],
      providers: [
        { provide: GatewayConfig, useValue: config },
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
      ],
      exports: [GatewayConfig],
    };
  }
}
