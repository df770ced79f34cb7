import { type DynamicModule, Module } from '@nestjs/common';
import { GatewayLinkPool, SERVED_MODELS } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import {
  MODEL_CONSUMERS,
  type ModelConsumers,
  ModelHost,
  ModelLoader,
  WorkerPresenceReporter,
} from '@marquee/worker/feature-models';
import { EmbeddingProcessor } from './embedding.processor';
import { InferenceProcessor } from './inference.processor';
import { UsageRecorder } from './usage-recorder.service';

/** The worker's job side: loaded models, queue consumers, gateway links, presence, load/unload. */
@Module({})
export class FeatureJobsModule {
  static forRoot(config: WorkerConfig, host: ModelHost): DynamicModule {
    return {
      module: FeatureJobsModule,
      providers: [
        { provide: WorkerConfig, useValue: config },
        { provide: ModelHost, useValue: host },
        { provide: SERVED_MODELS, useValue: host.allNames },
        GatewayLinkPool,
        InferenceProcessor,
        EmbeddingProcessor,
        WorkerPresenceReporter,
        ModelLoader,
        {
          provide: MODEL_CONSUMERS,
          useFactory: (
            textGeneration: InferenceProcessor,
            embedding: EmbeddingProcessor,
          ): ModelConsumers => ({ textGeneration, embedding }),
          inject: [InferenceProcessor, EmbeddingProcessor],
        },
        UsageRecorder,
      ],
    };
  }
}
