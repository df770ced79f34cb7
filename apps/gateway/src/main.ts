import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  type NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { setupApiDocs } from '@marquee/gateway/feature-docs';
import { GracefulShutdown } from '@marquee/gateway/feature-health';
import { grpcServerOptions } from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import {
  gatewayFastifyOptions,
  installCors,
  installHttpHooks,
} from '@marquee/gateway/util-http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DASHBOARD_DIR, serveDashboard } from './dashboard-static';

async function bootstrap(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = GatewayConfig.fromEnv();
  } catch (error) {
    // Names the bad variables, never their values (see GatewayConfig.fromEnv).
    console.error(`gateway: ${(error as Error).message}`);
    process.exit(1);
  }
  const adapter = new FastifyAdapter(gatewayFastifyOptions());
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    adapter,
    { bufferLogs: true },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  const instance = app.getHttpAdapter().getInstance();
  installHttpHooks(instance);
  // After the hooks above, so preflights carry x-request-id and the security headers too.
  installCors(instance, config.corsOrigins);
  setupApiDocs(app);
  if (!(await serveDashboard(app)))
    logger.warn(
      `the admin dashboard is not built (${DASHBOARD_DIR}): run \`npx nx run dashboard:build\` (npm start does); /dashboard/ answers 404 until then`,
      'Gateway',
    );
  const shutdown = app.get(GracefulShutdown);
  shutdown.install(instance);
  app.connectMicroservice(grpcServerOptions(config.grpcPort));
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  // Not enableShutdownHooks(): it would close at once; this drains first (SHUTDOWN_GRACE_MS).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutdown
        .shutdown(app, signal)
        .then(() => {
          // Exit once the event loop is empty, so the last frames written to gRPC and HTTP
          // sockets go out (process.exit would cut them); force it if a handle lingers.
          process.exitCode = 0;
          setTimeout(() => process.exit(0), 5000).unref();
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        });
    });
  }
  logger.log(
    {
      config: config.describe(),
    },
    `gateway ${config.gatewayId} on http://${config.host}:${config.port}, gRPC on ${config.grpcPort}, metrics on ${config.metricsPort}`,
    'Gateway',
  );
}

void bootstrap();
