import { type DynamicModule, Module } from '@nestjs/common';
import { InferenceQueue } from './inference-queue.service';
import { REDIS_URL, RedisConnection } from './redis.provider';
import { WorkerPresenceService } from './worker-presence.service';

const services = [RedisConnection, InferenceQueue, WorkerPresenceService];

/** Redis for the gateway: inference queues and worker presence. */
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
