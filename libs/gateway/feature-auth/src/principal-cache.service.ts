import {
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiKeyRepository } from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import type { Principal } from '@marquee/gateway/util-http';
import { Redis } from 'ioredis';

/** Redis channel on which any replica announces that keys, tenants or plans changed. */
export const AUTHZ_CHANGED_CHANNEL = '{marquee}:authz-changed';
/** Safety net when a broadcast is missed (e.g. Redis blip): entries live at most this long. */
const ENTRY_TTL_MS = 5_000;

/**
 * Caches what key hashes resolve to, so authentication costs no database round trip on the hot
 * path. Any admin change is broadcast over Redis pub/sub and flushes every replica's cache, so a
 * revocation or plan change applies everywhere within milliseconds (at most ENTRY_TTL_MS).
 */
@Injectable()
export class PrincipalCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PrincipalCache.name);
  private readonly entries = new Map<
    string,
    { principal: Principal | null; expiresAt: number }
  >();
  private subscriber: Redis | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly redis: RedisConnection,
  ) {}

  async onModuleInit(): Promise<void> {
    this.subscriber = new Redis(this.redis.url, { maxRetriesPerRequest: null });
    this.subscriber.on('error', (error) =>
      this.logger.warn(`authz subscriber: ${error.message}`),
    );
    this.subscriber.on('message', () => this.flush());
    // Reconnects re-subscribe automatically; flush in case broadcasts were missed meanwhile.
    this.subscriber.on('ready', () => this.flush());
    await this.subscriber
      .subscribe(AUTHZ_CHANGED_CHANNEL)
      .catch((error: Error) => {
        this.logger.warn(`authz subscribe failed: ${error.message}`);
      });
  }

  /**
   * The principal of a key hash, or null. Checked against the clock on every call: an entry
   * never outlives the key's expiry (nor a rotated key's grace period), so an expired key is
   * refused on its first request after expiring, not when its entry ages out.
   */
  async resolve(hash: string): Promise<Principal | null> {
    const now = Date.now();
    const cached = this.entries.get(hash);
    if (cached && cached.expiresAt > now) return cached.principal;
    const principal = await this.keys.findActiveByHash(hash, new Date(now));
    const deadline = principal?.validUntil?.getTime() ?? Infinity;
    if (this.entries.size > 100_000) this.entries.clear();
    this.entries.set(hash, {
      principal,
      expiresAt: Math.min(now + ENTRY_TTL_MS, deadline),
    });
    return principal;
  }

  /**
   * Also runs `listener` whenever admin data changed (any replica's broadcast, or a reconnect
   * that may have missed one): other caches of admin data (models, prices) flush with this one.
   */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private flush(): void {
    this.entries.clear();
    for (const listener of this.listeners) listener();
  }

  /** Tells every replica (this one included) to forget what it cached. */
  async broadcastChange(): Promise<void> {
    this.flush();
    await this.redis.client.publish(AUTHZ_CHANGED_CHANNEL, String(Date.now()));
  }

  onModuleDestroy(): void {
    this.subscriber?.disconnect();
  }
}
