import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { setupApiDocs } from '@marquee/gateway/feature-docs';
import { grpcServerOptions } from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { installFastifyErrorHandler } from '@marquee/gateway/util-http';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = GatewayConfig.fromEnv();
  } catch (error) {
    console.error(`gateway: ${(error as Error).message}`);
    process.exit(1);
  }
  const adapter = new FastifyAdapter({
    genReqId: () => `req_${randomUUID().replace(/-/g, '')}`,
    requestIdHeader: false,
    bodyLimit: 8 * 1024 * 1024,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    adapter,
    {
      logger:
        config.logLevel === 'silent'
          ? false
          : ['log', 'warn', 'error', 'fatal'],
    },
  );
  installFastifyErrorHandler(app.getHttpAdapter().getInstance());
  setupApiDocs(app);
  app.connectMicroservice(grpcServerOptions(config.grpcPort));
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  Logger.log(
    `gateway ${config.gatewayId} on http://${config.host}:${config.port}, gRPC on ${config.grpcPort}`,
    'Gateway',
  );
}

void bootstrap();
