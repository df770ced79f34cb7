import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * What a worker connection is for, and so how it behaves while Redis is away:
 * - `commands`: fails a command after one reconnection attempt (callers retry or report);
 * - `queue`: BullMQ's and the job intake's, whose commands wait out an outage;
 * - `blocking`, `subscriber`: a blocking pop or a subscription, waiting out an outage too;
 * - `probe`: connects on first use and gives up connecting after 2 s (health checks, gauges).
 */
export type WorkerRedisUse =
  | 'commands'
  | 'queue'
  | 'blocking'
  | 'subscriber'
  | 'probe';

const POLICIES: Record<WorkerRedisUse, RedisOptions> = {
  commands: { maxRetriesPerRequest: 1 },
  queue: { maxRetriesPerRequest: null },
  blocking: { maxRetriesPerRequest: null },
  subscriber: { maxRetriesPerRequest: null },
  probe: { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true },
};

/**
 * The worker's one way to open Redis: the policy of its use, and its errors logged once per
 * outage (and its return once), named after what it serves, instead of each place choosing its
 * own options and dropping the errors.
 */
export function openWorkerRedis(
  url: string,
  name: string,
  use: WorkerRedisUse,
): Redis {
  const redis = new Redis(url, POLICIES[use]);
  const logger = new Logger(`Redis:${name}`);
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ use, err: error.message }, 'Redis unreachable; retrying');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log({ use }, 'Redis reachable again');
  });
  return redis;
}
