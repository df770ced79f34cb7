import { Controller, Get, Res } from '@nestjs/common';
import { PrismaService } from '@marquee/gateway/data-access-db';
import {
  RedisConnection,
  WorkerPresenceService,
} from '@marquee/gateway/data-access-queue';
import type { FastifyReply } from 'fastify';

/** Liveness (the process answers) and readiness (it can serve a completion right now). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisConnection,
    private readonly presence: WorkerPresenceService,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** 200 only when PostgreSQL and Redis answer and at least one worker serves some model. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [database, redis] = await Promise.all([
      this.prisma.ping(),
      this.redis.ping(),
    ]);
    const workers = redis ? await this.presence.live().catch(() => []) : [];
    const models = [...new Set(workers.flatMap((w) => w.models))].sort();
    const ready = database && redis && models.length > 0;
    reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'not_ready',
      checks: {
        database: database ? 'up' : 'down',
        redis: redis ? 'up' : 'down',
        workers: workers.length,
        models,
      },
    };
  }
}
