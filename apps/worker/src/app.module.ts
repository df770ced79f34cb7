import { type DynamicModule, Global, Module } from '@nestjs/common';
import {
  DrainState,
  loggerParams,
  WorkerMetrics,
} from '@marquee/shared/util-observability';
import { FeatureJobsModule } from '@marquee/worker/feature-jobs';
import { ModelHost } from '@marquee/worker/feature-models';
import { FeatureOpsModule } from '@marquee/worker/feature-ops';
import { WorkerConfig } from '@marquee/worker/util-config';
import { LoggerModule } from 'nestjs-pino';

/** Process-wide services every worker module may use: metrics and the drain flag. */
@Global()
@Module({
  providers: [WorkerMetrics, DrainState],
  exports: [WorkerMetrics, DrainState],
})
class WorkerObservabilityModule {}

/** The worker: JSON logs, metrics, the job side and the ops HTTP server. */
@Module({})
export class AppModule {
  static forRoot(config: WorkerConfig, host: ModelHost): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(
          loggerParams({
            service: 'worker',
            instance: config.workerId,
            level: config.logLevel,
          }),
        ),
        WorkerObservabilityModule,
        FeatureJobsModule.forRoot(config, host),
        FeatureOpsModule.forRoot(config, {
          names: () => host.allNames,
          capacity: (model) => host.concurrency(model),
        }),
      ],
    };
  }
}
