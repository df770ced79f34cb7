import { Controller, Get, Res } from '@nestjs/common';
import {
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { PrismaService } from '@marquee/gateway/data-access-db';
import {
  RedisConnection,
  WorkerPresenceService,
} from '@marquee/gateway/data-access-queue';
import { DrainState, GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';

/**
 * Liveness (the process answers) and readiness (it can serve a completion right now:
 * PostgreSQL and Redis answer, at least one worker is live, and it is not draining).
 * Bodies are Terminus' (`status`, `info`, `error`, `details`) plus a compact `checks`.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly redis: RedisConnection,
    private readonly presence: WorkerPresenceService,
    private readonly drain: DrainState,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [database, redis] = await Promise.all([
      this.prisma.ping(),
      this.redis.ping(),
    ]);
    const workers = redis
      ? await this.presence
          .live()
          .catch(this.metrics.failures.fallback('presence.read', []))
      : [];
    this.metrics.liveWorkers.set(workers.length);
    const models = [...new Set(workers.flatMap((w) => w.models))].sort();
    const up =
      (key: string, ok: boolean, data: Record<string, unknown> = {}) =>
      (): HealthIndicatorResult => {
        const session = this.indicators.check(key);
        return ok ? session.up(data) : session.down(data);
      };
    const result = await this.health
      .check([
        up('database', database),
        up('redis', redis),
        up('workers', workers.length > 0, { live: workers.length, models }),
        up('draining', !this.drain.draining),
      ])
      .catch((error: { getResponse?: () => object }) =>
        error.getResponse ? error.getResponse() : { status: 'error' },
      );
    const ready =
      database && redis && workers.length > 0 && !this.drain.draining;
    reply.status(ready ? 200 : 503);
    return {
      ...result,
      checks: {
        database: database ? 'up' : 'down',
        redis: redis ? 'up' : 'down',
        workers: workers.length,
        models,
        draining: this.drain.draining,
      },
    };
  }
}
