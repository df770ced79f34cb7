import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  GATEWAY_ALIVE_REFRESH_MS,
  GATEWAY_ALIVE_TTL_S,
  gatewayAliveKey,
} from '@marquee/contracts/queue';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { GatewayConfig } from '@marquee/gateway/util-config';

/**
 * Tells workers this replica is alive (a self-expiring Redis key): a worker drops the queued jobs
 * of a replica that died instead of running them for nobody.
 */
@Injectable()
export class GatewayPresence
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(GatewayPresence.name);
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(
      () => void this.refresh(),
      GATEWAY_ALIVE_REFRESH_MS,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Not removed: workers see it expire within GATEWAY_ALIVE_TTL_S.
    await this.redis.client
      .del(gatewayAliveKey(this.config.gatewayId))
      .catch((error: unknown) =>
        this.logger.warn(
          { err: String(error) },
          'gateway presence not removed at shutdown',
        ),
      );
  }

  private async refresh(): Promise<void> {
    try {
      await this.redis.client.set(
        gatewayAliveKey(this.config.gatewayId),
        String(Date.now()),
        'EX',
        GATEWAY_ALIVE_TTL_S,
      );
      if (this.failing) this.logger.log('gateway presence restored');
      this.failing = false;
    } catch (error) {
      // Logged once per outage: workers may drop this replica's queued jobs meanwhile.
      if (!this.failing)
        this.logger.warn(
          { err: String(error) },
          'gateway presence not refreshed',
        );
      this.failing = true;
    }
  }
}
