import {
  Inject,
  Injectable,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { Redis } from 'ioredis';

/** DI token for the Redis URL. */
export const REDIS_URL = Symbol('REDIS_URL');

/**
 * Bounds on the gateway's command connection, so a request fails within about two seconds (and
 * gets 503) while Redis is down or unreachable, instead of queueing behind reconnects. In ms.
 */
export const REDIS_COMMAND_LIMITS = {
  /** A connection attempt that has not completed by then is dropped and retried. */
  connectTimeoutMs: 1_000,
  /** A command not answered by then (queued while reconnecting, or sent) fails. */
  commandTimeoutMs: 2_000,
  /** Longest wait between reconnection attempts, so recovery is noticed within a second. */
  maxReconnectDelayMs: 1_000,
} as const;

/**
 * The gateway's command connection: admission, queue producers, presence. Commands only, never
 * blocking ones (BullMQ's blocking consumers live in the workers, on their own connections with
 * `maxRetriesPerRequest: null`), so every command may be bounded in time.
 */
@Injectable()
export class RedisConnection implements OnModuleDestroy {
  readonly client: Redis;

  constructor(
    @Inject(REDIS_URL) readonly url: string,
    @Optional() metrics?: GatewayMetrics,
  ) {
    this.client = new Redis(url, {
      lazyConnect: false,
      // Commands issued while (re)connecting wait, but only for one reconnection attempt and at
      // most commandTimeoutMs.
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: REDIS_COMMAND_LIMITS.connectTimeoutMs,
      commandTimeout: REDIS_COMMAND_LIMITS.commandTimeoutMs,
      retryStrategy: (attempt) =>
        Math.min(attempt * 100, REDIS_COMMAND_LIMITS.maxReconnectDelayMs),
    });
    // Errors also surface through failing commands and the readiness probe; an outage is
    // logged once here, and never crashes the process.
    this.client.on('error', (error) =>
      metrics?.failures.report('redis.connection', error),
    );
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
  }
}
