import { fairBellKey, fairReadyKey } from '@marquee/contracts/queue';
import type { Redis } from 'ioredis';

/** Bell entries taken per look: any number means "something was enqueued". */
const BELL_DRAIN = 64;
/** How long one wait on the bell lasts when nobody rings, s. */
const WAIT_S = 1;

/**
 * A model's bell: every enqueue pushes a ring naming the tenant that queued (older gateways ring
 * `1`), and a worker's fetch loop takes the rings, or sleeps on the bell until one comes.
 */
export class JobBell {
  private readonly key: string;

  constructor(
    private readonly model: string,
    /** Takes rings without waiting, and rings. */
    private readonly connection: Redis,
    /** A connection of its own for the blocking wait. */
    private readonly bellConnection: Redis,
  ) {
    this.key = fairBellKey(model);
  }

  /**
   * Takes the rings waiting, without waiting. Rings stand for jobs: it takes no more than `slots`
   * (the slots this worker has waiting), and leaves the rest to other workers.
   */
  async take(slots: number): Promise<string[]> {
    return (
      (await this.connection.lpop(this.key, Math.min(BELL_DRAIN, slots))) ?? []
    );
  }

  /**
   * One blocking wait on the bell (up to a second): the ring heard, or null. An error reads as
   * silence: the loop's next look uses the command connection, and reports there if Redis is down.
   */
  async wait(): Promise<string | null> {
    const rang = await this.bellConnection
      .blpop(this.key, WAIT_S)
      .catch(() => null);
    return rang ? rang[1] : null;
  }

  /** A job of `tenantId` went back to its queue: marks the tenant ready again and rings. */
  async ring(tenantId: string): Promise<void> {
    await this.connection
      .multi()
      .sadd(fairReadyKey(this.model), tenantId)
      .lpush(this.key, tenantId)
      .exec();
  }
}
