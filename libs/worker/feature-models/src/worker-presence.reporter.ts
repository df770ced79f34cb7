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
import { gpuMemory } from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { openWorkerRedis } from '@marquee/worker/feature-fair-queue';
import type { Redis } from 'ioredis';
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
  /** Counters of the requests running now, one per kind of job. */
  private readonly running = new Set<() => number>();

  constructor(
    private readonly config: WorkerConfig,
    private readonly host: ModelHost,
  ) {
    this.redis = openWorkerRedis(config.redisUrl, 'presence', 'commands');
    // Back after an outage, announce at once: the key may have expired meanwhile, and gateways
    // would take this worker for gone until the next beat, ending its queued requests.
    let lost = false;
    this.redis.on('close', () => (lost = true));
    this.redis.on('ready', () => {
      if (!lost || !this.timer) return;
      lost = false;
      void this.announce();
    });
  }

  /** Records why a requested load failed (announced until cleared with null). */
  setModelError(model: string, reason: string | null): void {
    if (reason === null) this.modelErrors.delete(model);
    else this.modelErrors.set(model, reason);
  }

  /** Adds a count of running requests to what the presence reports. */
  countRunning(count: () => number): void {
    this.running.add(count);
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
      heartbeatAt: Date.now(),
      load: await this.load(),
    };
    try {
      await writeWorkerPresence(this.redis, presence);
    } catch (error) {
      this.logger.warn(`presence not refreshed: ${(error as Error).message}`);
    }
  }

  private async load(): Promise<NonNullable<WorkerPresence['load']>> {
    const gpus =
      this.host.executionProvider === 'cuda' ? await gpuMemory.current() : [];
    let running = 0;
    for (const count of this.running) running += count();
    return {
      running,
      slots: this.host.allNames.reduce(
        (sum, name) => sum + this.host.concurrency(name),
        0,
      ),
      rssBytes: process.memoryUsage().rss,
      gpuMemoryUsedBytes: gpus.length
        ? gpus.reduce((sum, g) => sum + g.usedBytes, 0)
        : null,
      gpuMemoryTotalBytes: gpus.length
        ? gpus.reduce((sum, g) => sum + g.totalBytes, 0)
        : null,
    };
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await removeWorkerPresence(this.redis, this.config.workerId).catch(
      () => undefined,
    );
    this.redis.disconnect();
  }
}
