import { Injectable } from '@nestjs/common';
import {
  WORKER_PRESENCE_PATTERN,
  type WorkerPresence,
  workerPresenceSchema,
} from '@marquee/contracts/queue';
import { RedisConnection } from './redis.provider';

/** Reads which workers are alive, from their self-expiring Redis keys. */
@Injectable()
export class WorkerPresenceService {
  constructor(private readonly redis: RedisConnection) {}

  async live(): Promise<WorkerPresence[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.client.scan(
        cursor,
        'MATCH',
        WORKER_PRESENCE_PATTERN,
        'COUNT',
        200,
      );
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
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
