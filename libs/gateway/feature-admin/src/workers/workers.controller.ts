import { Get } from '@nestjs/common';
import type { WorkerPresence } from '@marquee/contracts/queue';
import { WorkerPresenceService } from '@marquee/gateway/data-access-queue';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiRoute } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { AdminController } from '../http/admin-controller';
import { redisUnavailable } from '../http/redis-unavailable';
import { list } from '../http/present';

const presentWorker = (w: WorkerPresence) => ({
  id: w.workerId,
  object: 'worker' as const,
  models: [...w.models].sort(),
  execution_provider: w.executionProvider,
  started_at: new Date(w.startedAt).toISOString(),
  model_errors: w.modelErrors ?? {},
});

/** The live workers, as they announce themselves in Redis. */
@AdminController('workers')
export class WorkersController {
  constructor(
    private readonly presence: WorkerPresenceService,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get('workers')
  @RequireAdmin('admin:read')
  @ApiRoute({
    summary: 'List live workers and the models each serves',
    description:
      "From the workers' presence announcements (refreshed every few seconds; a stopped worker disappears within 8 s). `model_errors` names models a worker was asked to load and could not, with the reason.",
  })
  async list() {
    const workers = await this.presence
      .live()
      .catch(this.metrics.failures.replace('presence.read', redisUnavailable));
    return list(
      workers
        .sort((a, b) => a.workerId.localeCompare(b.workerId))
        .map(presentWorker),
    );
  }
}
