import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  WORKER_PRESENCE_TTL_S,
  type WorkerPresence,
  workerPresenceKey,
} from '@marquee/contracts/queue';
import { SERVED_MODELS } from '@marquee/worker/transport-grpc';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Redis } from 'ioredis';

/** Announces this worker in Redis (a key with a TTL, refreshed on a timer) until it stops. */
@Injectable()
export class WorkerPresenceReporter
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(WorkerPresenceReporter.name);
  private readonly redis: Redis;
  private timer: NodeJS.Timeout | null = null;
  private readonly presence: WorkerPresence;

  constructor(
    private readonly config: WorkerConfig,
    @Inject(SERVED_MODELS) models: string[],
  ) {
    this.redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
    this.presence = {
      workerId: config.workerId,
      models,
      executionProvider: config.executionProvider,
      startedAt: Date.now(),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.announce();
    this.timer = setInterval(
      () => void this.announce(),
      Math.min(this.config.heartbeatMs, (WORKER_PRESENCE_TTL_S * 1000) / 3),
    );
    this.timer.unref();
  }

  private async announce(): Promise<void> {
    try {
      await this.redis.set(
        workerPresenceKey(this.config.workerId),
        JSON.stringify(this.presence),
        'EX',
        WORKER_PRESENCE_TTL_S,
      );
    } catch (error) {
      this.logger.warn(`presence not refreshed: ${(error as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis
      .del(workerPresenceKey(this.config.workerId))
      .catch(() => undefined);
    this.redis.disconnect();
  }
}
