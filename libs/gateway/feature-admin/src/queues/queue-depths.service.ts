import { Injectable } from '@nestjs/common';
import {
  fairTenantsKey,
  MODEL_NAME_PATTERN,
  QUEUE_PREFIX,
  tenantQueueName,
  WORKER_PRESENCE_TTL_S,
  workerPresenceKey,
} from '@marquee/contracts/queue';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { Queue } from 'bullmq';

/** Failed jobs listed per tenant queue (BullMQ keeps the last 1,000). */
const FAILED_SHOWN = 5;
/** Waiting jobs looked at to find the oldest (the queue's head is enough in practice). */
const WAITING_SCANNED = 100;

/** One tenant's queue for one model. */
export interface TenantQueueDepth {
  model: string;
  tenantId: string;
  waiting: number;
  running: number;
  delayed: number;
  failed: number;
  /** When the longest-waiting job was queued (Unix ms); null when none waits. */
  oldestWaitingAt: number | null;
  recentFailures: { id: string; reason: string; failedAt: number | null }[];
}

/**
 * Reads the fair queues (a BullMQ queue per model and tenant, see the queue contracts) without
 * touching them: counts, the oldest waiting job and the latest failures. Only tenants that ever
 * queued for a model have a queue; they are registered beside it.
 */
@Injectable()
export class QueueDepths {
  constructor(private readonly redis: RedisConnection) {}

  async forModels(models: string[]): Promise<TenantQueueDepth[]> {
    const out: TenantQueueDepth[] = [];
    for (const model of models.filter((m) => MODEL_NAME_PATTERN.test(m))) {
      const tenants = await this.redis.client.hkeys(fairTenantsKey(model));
      for (const tenantId of tenants.sort())
        out.push(await this.depth(model, tenantId));
    }
    return out;
  }

  /** When each worker last refreshed its presence (Unix ms), from the key's remaining TTL. */
  async lastHeartbeats(workerIds: string[]): Promise<Map<string, number>> {
    const now = Date.now();
    const out = new Map<string, number>();
    for (const id of workerIds) {
      const pttl = await this.redis.client.pttl(workerPresenceKey(id));
      if (pttl > 0) out.set(id, now - (WORKER_PRESENCE_TTL_S * 1000 - pttl));
    }
    return out;
  }

  private async depth(
    model: string,
    tenantId: string,
  ): Promise<TenantQueueDepth> {
    const queue = new Queue(tenantQueueName(model, tenantId), {
      connection: this.redis.client,
      prefix: QUEUE_PREFIX,
    });
    try {
      const [counts, waiting, failed] = await Promise.all([
        queue.getJobCounts(
          'wait',
          'prioritized',
          'delayed',
          'active',
          'failed',
        ),
        queue.getJobs(['wait', 'prioritized'], 0, WAITING_SCANNED - 1),
        queue.getFailed(0, FAILED_SHOWN - 1),
      ]);
      const queuedAt = waiting
        .map((j) => j.timestamp)
        .filter((t) => Number.isFinite(t));
      return {
        model,
        tenantId,
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        running: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        oldestWaitingAt: queuedAt.length > 0 ? Math.min(...queuedAt) : null,
        recentFailures: failed.map((j) => ({
          id: String(j.id),
          reason: j.failedReason ?? '',
          failedAt: j.finishedOn ?? null,
        })),
      };
    } finally {
      // The connection is the gateway's shared one: close() leaves it open.
      await queue.close();
    }
  }
}
