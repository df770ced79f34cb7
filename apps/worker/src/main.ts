import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DrainState } from '@marquee/shared/util-observability';
import {
  EmbeddingProcessor,
  InferenceProcessor,
} from '@marquee/worker/feature-jobs';
import { ModelHost } from '@marquee/worker/feature-models';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  let config: WorkerConfig;
  let host: ModelHost;
  try {
    config = WorkerConfig.fromEnv();
    host = await ModelHost.load(config);
  } catch (error) {
    // Names the bad variable or model folder, never a secret value.
    console.error(`worker: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(config, host),
    { bufferLogs: true },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  await app.init();

  // SIGTERM: readiness false, stop taking jobs, let running ones finish until
  // SHUTDOWN_GRACE_MS, hand the rest back to the queue, then close (links, Redis, models).
  let stopping: Promise<void> | null = null;
  const stop = async (signal: string) => {
    app.get(DrainState).begin();
    const processor = app.get(InferenceProcessor);
    logger.log(
      { signal, running: processor.running, graceMs: config.shutdownGraceMs },
      'draining',
      'Worker',
    );
    await Promise.all([
      processor.drain(config.shutdownGraceMs),
      app.get(EmbeddingProcessor).drain(config.shutdownGraceMs),
    ]);
    logger.log('drained; closing', 'Worker');
    await app.close();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping ??= stop(signal);
      stopping
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
    { config: config.describe() },
    `worker ${config.workerId} serving ${host.names.join(', ')} on ${host.executionProvider ?? config.executionProvider}`,
    'Worker',
  );
}

void bootstrap();
