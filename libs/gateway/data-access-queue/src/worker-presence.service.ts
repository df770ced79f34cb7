import { Injectable, Optional } from '@nestjs/common';
import {
  WORKER_INDEX_KEY,
  type WorkerPresence,
  workerPresenceKey,
  workerPresenceSchema,
} from '@marquee/contracts/queue';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { RedisConnection } from './redis.provider';

/** Reads which workers are alive: the workers' index, then their self-expiring presence keys. */
@Injectable()
export class WorkerPresenceService {
  constructor(
    private readonly redis: RedisConnection,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  async live(): Promise<WorkerPresence[]> {
    const replies = await this.redis.client
      .multi()
      // Workers gone without a goodbye leave the index once their presence has expired.
      .zremrangebyscore(WORKER_INDEX_KEY, '-inf', String(Date.now()))
      .zrange(WORKER_INDEX_KEY, '0', '-1')
      .exec();
    const [error, ids] = replies?.[1] ?? [null, []];
    if (error) throw error;
    const keys = (ids as string[]).map(workerPresenceKey);
    if (keys.length === 0) return [];
    const values = await this.redis.client.mget(keys);
    return values.flatMap((value) => {
      if (!value) return [];
      try {
        return [workerPresenceSchema.parse(JSON.parse(value))];
      } catch (error) {
        // A worker of another version, say: it is not counted as live.
        this.metrics?.failures.report('presence.parse', error);
        return [];
      }
    });
  }
}
