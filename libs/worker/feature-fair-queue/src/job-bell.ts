import { fairBellKey, fairReadyKey } from '@marquee/contracts/queue';
import type { Redis } from 'ioredis';
import type { ReportProblem } from './queue-problem';

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
  private closed = false;
  /** Ends the pause after a failed wait, while one lasts. */
  private endPause: (() => void) | null = null;

  constructor(
    private readonly model: string,
    /** Takes rings without waiting, and rings. */
    private readonly connection: Redis,
    /** A connection of its own for the blocking wait. */
    private readonly bellConnection: Redis,
    private readonly report: ReportProblem,
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
   * One blocking wait on the bell (up to a second): the ring heard, or null. A failed wait is
   * reported and lasts as long as a silent one: the loop looks on its command connection
   * meanwhile, instead of spinning on a broken bell. Once closed (its connection closed to end
   * the wait), a failure is the expected end and says nothing.
   */
  async wait(): Promise<string | null> {
    try {
      const rang = await this.bellConnection.blpop(this.key, WAIT_S);
      return rang ? rang[1] : null;
    } catch (error) {
      if (this.closed) return null;
      this.report('queue_error', { error });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.endPause?.(), WAIT_S * 1000);
        this.endPause = () => {
          clearTimeout(timer);
          this.endPause = null;
          resolve();
        };
      });
      return null;
    }
  }

  /** A job of `tenantId` went back to its queue: marks the tenant ready again and rings. */
  async ring(tenantId: string): Promise<void> {
    const replies = await this.connection
      .multi()
      .sadd(fairReadyKey(this.model), tenantId)
      .lpush(this.key, tenantId)
      .exec();
    // A transaction resolves with its commands' errors in the replies.
    const failed = replies?.find(([error]) => error)?.[0];
    if (failed) throw failed;
  }

  /** Waits no more: a failed wait in progress ends now, and later failures are not reported. */
  close(): void {
    this.closed = true;
    this.endPause?.();
  }
}
