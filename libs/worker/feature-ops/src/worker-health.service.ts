import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { DrainState } from '@marquee/shared/util-observability';
import { WorkerConfig } from '@marquee/worker/util-config';
import { openWorkerRedis } from '@marquee/worker/feature-fair-queue';
import type { Redis } from 'ioredis';

/** DI token: a function giving the names of the models this worker serves right now. */
export const LOADED_MODELS = Symbol('LOADED_MODELS');

/** DI token: how many requests a model runs at once on this worker. */
export const BATCH_CAPACITY = Symbol('BATCH_CAPACITY');

/** A health answer: HTTP status and Terminus' body. */
export interface HealthAnswer {
  status: number;
  body: object;
}

/**
 * The worker's readiness: Redis answers, its models are loaded, and it is not draining.
 * Liveness is the HTTP server answering at all (the event loop is not stuck).
 */
@Injectable()
export class WorkerHealth implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    config: WorkerConfig,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly drain: DrainState,
    @Inject(LOADED_MODELS) private readonly models: () => string[],
  ) {
    this.redis = openWorkerRedis(config.redisUrl, 'health', 'probe');
  }

  async ready(): Promise<HealthAnswer> {
    const redisUp = await Promise.race([
      this.redis.ping().then((pong) => pong === 'PONG'),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
    ]).catch(() => false);
    const check =
      (key: string, ok: boolean, data: Record<string, unknown> = {}) =>
      (): HealthIndicatorResult => {
        const session = this.indicators.check(key);
        return ok ? session.up(data) : session.down(data);
      };
    const loaded = this.models();
    const ready = redisUp && loaded.length > 0 && !this.drain.draining;
    const body = await this.health
      .check([
        check('redis', redisUp),
        check('models', loaded.length > 0, { loaded }),
        check('draining', !this.drain.draining),
      ])
      .catch((error: { getResponse?: () => object }) =>
        error.getResponse ? error.getResponse() : { status: 'error' },
      );
    return { status: ready ? 200 : 503, body };
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
