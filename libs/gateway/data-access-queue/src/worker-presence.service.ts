import { Injectable } from '@nestjs/common';
import {
  WORKER_INDEX_KEY,
  type WorkerPresence,
  workerPresenceKey,
  workerPresenceSchema,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';

/** Reads which workers are alive: the workers' index, then their self-expiring presence keys. */
@Injectable()
export class WorkerPresenceService {
  constructor(private readonly redis: RedisConnection) {}

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
        const parsed = workerPresenceSchema.safeParse(JSON.parse(value));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
