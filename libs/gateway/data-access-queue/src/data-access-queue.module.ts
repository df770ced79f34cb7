import { type DynamicModule, Module } from '@nestjs/common';
import { EmbeddingQueue, InferenceQueue } from './inference-queue.service';
import { ModelControl } from './model-control.service';
import { REDIS_URL, RedisConnection } from './redis.provider';
import { WorkerPresenceService } from './worker-presence.service';

const services = [
  RedisConnection,
  InferenceQueue,
  EmbeddingQueue,
  WorkerPresenceService,
  ModelControl,
];

/** Redis for the gateway: inference queues, worker presence and model load/unload control. */
@Module({})
export class DataAccessQueueModule {
  static forRoot(redisUrl: string): DynamicModule {
    return {
      module: DataAccessQueueModule,
      global: true,
      providers: [{ provide: REDIS_URL, useValue: redisUrl }, ...services],
      exports: services,
    };
  }
}
