import { Get } from '@nestjs/common';
import {
  ModelRepository,
  TenantRepository,
} from '@marquee/gateway/data-access-db';
import { WorkerPresenceService } from '@marquee/gateway/data-access-queue';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiRoute } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { AdminController } from '../http/admin-controller';
import { redisUnavailable } from '../http/redis-unavailable';
import { LatencyWindow } from '../stats/latency-window.service';
import { QueueDepths } from './queue-depths.service';

/** Queues and workers: is the pool keeping up, and whose requests wait. */
@AdminController('queues')
export class QueuesController {
  constructor(
    private readonly depths: QueueDepths,
    private readonly models: ModelRepository,
    private readonly tenants: TenantRepository,
    private readonly presence: WorkerPresenceService,
    private readonly latency: LatencyWindow,
    private readonly metrics: GatewayMetrics,
  ) {}

  @Get('queues')
  @RequireAdmin('admin:read')
  @ApiRoute({
    summary:
      'Waiting and running jobs per model and tenant, and the live workers',
    description:
      "`queues`: one entry per model and tenant that has queued for it: waiting (incl. prioritized), running, delayed and failed jobs, how long the oldest waiting job has waited, and the latest failures. `queue_wait`: this gateway replica's p95 wait from enqueue to a worker taking the job, over the last five minutes. `workers`: the live workers with the models each serves, when it last refreshed its presence, and its `load` then: requests running and batch slots (every model together), resident memory, and GPU memory on CUDA workers (null elsewhere); null for a worker that does not report it.",
  })
  async list() {
    const models = (await this.models.list()).map((m) => m.name);
    const [depths, workers] = await Promise.all([
      this.depths.forModels(models),
      this.presence.live(),
    ]).catch(this.metrics.failures.replace('queues.read', redisUnavailable));
    const heartbeats = await this.depths
      // Workers write heartbeatAt; only those that do not (older builds) cost a read.
      .lastHeartbeats(
        workers
          .filter((w) => w.heartbeatAt === undefined)
          .map((w) => w.workerId),
      )
      .catch(
        this.metrics.failures.replace('heartbeats.read', redisUnavailable),
      );
    const names = await this.tenants.namesOf([
      ...new Set(depths.map((d) => d.tenantId)),
    ]);
    const now = Date.now();
    const latency = await this.latency.summary();
    return {
      object: 'queues' as const,
      generated_at: new Date(now).toISOString(),
      queue_wait: {
        since: latency.since.toISOString(),
        p95_seconds: latency.queue_wait_p95_seconds,
      },
      queues: depths.map((d) => ({
        model: d.model,
        tenant_id: d.tenantId,
        tenant_name: names.get(d.tenantId) ?? null,
        waiting: d.waiting,
        running: d.running,
        delayed: d.delayed,
        failed: d.failed,
        oldest_wait_seconds:
          d.oldestWaitingAt === null
            ? null
            : Math.max(0, (now - d.oldestWaitingAt) / 1000),
        recent_failures: d.recentFailures.map((f) => ({
          id: f.id,
          reason: f.reason,
          failed_at:
            f.failedAt === null ? null : new Date(f.failedAt).toISOString(),
        })),
      })),
      workers: workers
        .sort((a, b) => a.workerId.localeCompare(b.workerId))
        .map((w) => {
          const beat = w.heartbeatAt ?? heartbeats.get(w.workerId);
          return {
            id: w.workerId,
            models: [...w.models].sort(),
            execution_provider: w.executionProvider,
            started_at: new Date(w.startedAt).toISOString(),
            last_heartbeat_at:
              beat === undefined ? null : new Date(beat).toISOString(),
            model_errors: w.modelErrors ?? {},
            load: w.load
              ? {
                  running: w.load.running,
                  slots: w.load.slots,
                  rss_bytes: w.load.rssBytes,
                  gpu_memory_used_bytes: w.load.gpuMemoryUsedBytes,
                  gpu_memory_total_bytes: w.load.gpuMemoryTotalBytes,
                }
              : null,
          };
        }),
    };
  }
}
