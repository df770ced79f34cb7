import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FeatureJobsModule, ModelHost } from '@marquee/worker/feature-jobs';
import { WorkerConfig } from '@marquee/worker/util-config';

async function bootstrap(): Promise<void> {
  let config: WorkerConfig;
  let host: ModelHost;
  try {
    config = WorkerConfig.fromEnv();
    host = await ModelHost.load(config);
  } catch (error) {
    console.error(`worker: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = await NestFactory.createApplicationContext(
    FeatureJobsModule.forRoot(config, host),
    {
      logger:
        config.logLevel === 'silent'
          ? false
          : ['log', 'warn', 'error', 'fatal'],
    },
  );
  app.enableShutdownHooks();
  await app.init();
  Logger.log(
    `worker ${config.workerId} serving ${host.names.join(', ')} on ${config.executionProvider}`,
    'Worker',
  );
}

void bootstrap();
