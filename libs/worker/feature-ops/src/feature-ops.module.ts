import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WorkerConfig } from '@marquee/worker/util-config';
import { OpsHttpServer } from './ops-http.server';
import { WorkerGauges } from './worker-gauges.service';
import {
  BATCH_CAPACITY,
  LOADED_MODELS,
  WorkerHealth,
} from './worker-health.service';

/** What the ops side needs to know about the loaded models. */
export interface LoadedModels {
  /** The models served right now (they change as models load and unload at runtime). */
  names: () => string[];
  /** Requests a model runs at once (its batch size); 1 when unknown. */
  capacity?: (model: string) => number;
}

/**
 * Operations for a worker: an HTTP server on METRICS_PORT with `/metrics` and
 * `/health/{live,ready}`. Expects `WorkerMetrics` and `DrainState` from a global module.
 */
@Module({})
export class FeatureOpsModule {
  static forRoot(config: WorkerConfig, models: LoadedModels): DynamicModule {
    return {
      module: FeatureOpsModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [
        { provide: WorkerConfig, useValue: config },
        { provide: LOADED_MODELS, useValue: models.names },
        { provide: BATCH_CAPACITY, useValue: models.capacity ?? (() => 1) },
        WorkerHealth,
        WorkerGauges,
        OpsHttpServer,
      ],
      exports: [OpsHttpServer],
    };
  }
}
