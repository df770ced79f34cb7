import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  WORKER_PRESENCE_TTL_S,
  type WorkerPresence,
  removeWorkerPresence,
  writeWorkerPresence,
} from '@marquee/contracts/queue';
import { WorkerConfig } from '@marquee/worker/util-config';
import { Redis } from 'ioredis';
import { ModelHost } from './model-host.service';

/**
 * Announces this worker and the models it serves now in Redis (a key with a TTL, refreshed on a
 * timer and whenever a model is loaded or unloaded) until it stops.
 */
@Injectable()
export class WorkerPresenceReporter
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(WorkerPresenceReporter.name);
  private readonly redis: Redis;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private readonly modelErrors = new Map<string, string>();

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
  ) {
    this.redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    this.redis.on('error', () => undefined);
  }

  /** Records why a requested load failed (announced until cleared with null). */
  setModelError(model: string, reason: string | null): void {
    if (reason === null) this.modelErrors.delete(model);
    else this.modelErrors.set(model, reason);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.announce();
    this.timer = setInterval(
      () => void this.announce(),
      Math.min(this.config.heartbeatMs, (WORKER_PRESENCE_TTL_S * 1000) / 3),
    );
    this.timer.unref();
  }

  /** Writes the presence key now (after a change of the models served). */
  async announce(): Promise<void> {
    const presence: WorkerPresence = {
      workerId: this.config.workerId,
      models: this.host.allNames,
      executionProvider:
        this.host.executionProvider ?? this.config.executionProvider,
      startedAt: this.startedAt,
      ...(this.modelErrors.size > 0
        ? { modelErrors: Object.fromEntries(this.modelErrors) }
        : {}),
    };
    try {
      await writeWorkerPresence(this.redis, presence);
    } catch (error) {
      this.logger.warn(`presence not refreshed: ${(error as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await removeWorkerPresence(this.redis, this.config.workerId).catch(
      () => undefined,
    );
    this.redis.disconnect();
  }
}
