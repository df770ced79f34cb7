import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobBell } from './job-bell';
import type { FairJob } from './job-lease';
import {
  type QueueProblem,
  type ReportProblem,
  problemReporter,
} from './queue-problem';
import { ReadyTenantSweep, type WaitingSlots } from './ready-tenant-sweep';
import { TenantQueues } from './tenant-queues';

export interface FairJobSourceOptions {
  model: string;
  /** Commands (job fetches, tenant list). BullMQ duplicates it where it needs blocking calls. */
  connection: Redis;
  /** A connection of its own for waiting on the bell (blocking). */
  bellConnection: Redis;
  /**
   * A job's lock lives this long unless renewed (renewed every half), ms; a dead worker's jobs
   * go back to their queue within about one and a half of it. Default 8 s.
   */
  lockDurationMs?: number;
  /** The tenant list is re-read at least this often, and whenever the bell rang, ms. Default 1 s. */
  refreshMs?: number;
  /**
   * Sweeps look only at tenants marked ready; this often, a marking pass looks at every tenant
   * for jobs back in a queue without a mark (stalled jobs of a crashed worker), ms. Default 30 s.
   */
  fullSweepMs?: number;
  /** Told of each problem the intake handled on its own (see {@link QueueProblem}). */
  onProblem?: (problem: QueueProblem) => void;
}

/** A slot waiting for a job. */
interface Waiter<T> {
  resolve: (job: FairJob<T> | null) => void;
  reject: (error: Error) => void;
}

/**
 * Where a worker gets its next job for a model: from the per-tenant queues, picking tenants by
 * tier then weighted deficit round-robin, instead of first come first served. Each slot of the
 * worker calls {@link next}; while slots wait, one loop takes jobs for them, sleeping on the
 * model's bell when there are none until a gateway rings it.
 */
export class FairJobSource<T> {
  private readonly bell: JobBell;
  private readonly queues: TenantQueues<T>;
  private readonly tenants: ReadyTenantSweep<T>;
  private readonly refreshMs: number;
  private readonly report: ReportProblem;
  /** Slots waiting for a job, first in line first. */
  private readonly waiters: Waiter<T>[] = [];
  /** The waiting slots as the sweep sees them. */
  private readonly slots: WaitingSlots<T>;
  /** The fetch loop, while one runs. */
  private fetching: Promise<void> | null = null;
  private closed = false;
  /** Bumped whenever work may have appeared: a bell rang, a job was marked or found idle. */
  private generation = 0;
  /** The generation at which a sweep of every tenant last found nothing, and when it began. */
  private emptyGeneration = -1;
  private idleSweepAt = 0;

  constructor(options: FairJobSourceOptions) {
    const { model, connection } = options;
    const report = problemReporter(model, options.onProblem);
    this.report = report;
    this.refreshMs = options.refreshMs ?? 1_000;
    this.bell = new JobBell(model, connection, options.bellConnection, report);
    this.queues = new TenantQueues<T>({
      model,
      connection,
      lockDurationMs: options.lockDurationMs ?? 8_000,
      bell: this.bell,
      report,
    });
    this.tenants = new ReadyTenantSweep<T>(
      {
        model,
        connection,
        refreshMs: this.refreshMs,
        fullSweepMs: options.fullSweepMs ?? 30_000,
        report,
      },
      this.queues,
    );
    const waiters = this.waiters;
    this.slots = {
      get count() {
        return waiters.length;
      },
      serve: (job) => waiters.shift()?.resolve(job),
    };
  }

  /**
   * The next job by fair order, waiting for one; null once closed. Slots wait in line and one
   * fetch loop serves them in turn, so a job wakes one look at the queues, not one per idle slot.
   */
  next(): Promise<FairJob<T> | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.fetching ??= this.fetch();
    });
  }

  /**
   * Takes jobs for the waiting slots, first in line first, until none waits.
   *
   * Sweeps look only at tenants marked ready. After a sweep found nothing, the loop waits on the
   * bell, and one sweep per `refreshMs` looks again. Any ring starts a sweep at once, over a
   * tenant list read after the ring. Every `fullSweepMs`, a marking pass over every known tenant
   * marks those with jobs waiting but no mark (stalled jobs of a crashed worker). A Redis error
   * is reported once and fails every waiting slot's look (each retries); a stop ends the loop,
   * and the slots still in line get null.
   */
  private async fetch(): Promise<void> {
    try {
      // Just woken by the bell: its ring is heard already, and rings that came with it wait for
      // the next look (saves a round trip on the quiet path).
      let woke = false;
      while (!this.closed && this.waiters.length > 0) {
        // Every enqueue rings the bell, so a tenant that just arrived is a candidate at once.
        if (!woke) this.heard(await this.bell.take(this.waiters.length));
        woke = false;
        let now = Date.now();
        if (await this.tenants.markIfDue(now)) this.generation++;
        const idle = this.generation === this.emptyGeneration;
        if (idle && now - this.idleSweepAt < this.refreshMs) {
          woke = await this.sleep();
          continue;
        }
        if (idle) this.idleSweepAt = now; // this look is the period's sweep
        await this.tenants.refreshIfStale(this.generation, now);
        now = Date.now();
        if ((await this.tenants.sweep(this.slots)) > 0) {
          // Found while idle (a job back from a crashed worker): more may be, look again.
          if (idle) this.generation++;
          // The jobs just handed out send their first commands before the next look does.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        // Only this loop moves the generation, so no ring came during the sweep.
        this.emptyGeneration = this.generation;
        if (!idle) this.idleSweepAt = now;
        // Nothing queued anywhere: sleep until a gateway rings (or a second passes).
        woke = await this.sleep();
      }
    } catch (error) {
      this.report('queue_error', { error });
      for (const waiter of this.waiters.splice(0))
        waiter.reject(error as Error);
    } finally {
      this.fetching = null;
      if (this.closed)
        for (const waiter of this.waiters.splice(0)) waiter.resolve(null);
      // A slot that came in line as the loop ended (or after an error) starts the next one.
      else if (this.waiters.length > 0) this.fetching = this.fetch();
    }
  }

  /** Rings name the tenants that may have work now: a new generation. */
  private heard(rings: string[]): void {
    if (rings.length === 0) return;
    this.generation++;
    this.tenants.hear(rings, this.generation);
  }

  /** One wait on the bell (up to a second): whether it rang. */
  private async sleep(): Promise<boolean> {
    const ring = await this.bell.wait();
    if (ring === null) return false;
    this.heard([ring]);
    return true;
  }

  /**
   * One unit of a worker's concurrency: takes the next fair job, hands it to `handle` and settles
   * it with the queue, until the source is stopped. When `handle` throws, the job fails for good,
   * unless `handBack` accepts the error: then it goes back to its queue for another worker.
   * `handle` is given the job's {@link FairJob.signal}: aborted when the job's lock was lost, and
   * the job may run elsewhere.
   */
  async consume(
    handle: (job: Job<T>, signal: AbortSignal) => Promise<void>,
    options: { handBack?: (error: unknown) => boolean } = {},
  ): Promise<void> {
    for (;;) {
      // A failed take (Redis down) was reported by the fetch loop as `queue_error`; the slot
      // retries after half a second.
      const taken = await this.next().catch(() => undefined);
      if (taken === null) return;
      if (taken === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      let failure: { error: unknown } | null = null;
      try {
        await handle(taken.job, taken.signal);
      } catch (error) {
        failure = { error };
      }
      // A failed settle is the queue's problem, not the job's: reported, never handed back.
      await (
        failure
          ? taken.fail(
              failure.error as Error,
              options.handBack?.(failure.error) ?? false,
            )
          : taken.complete()
      ).catch((error: unknown) =>
        this.report('job_settle_failed', {
          tenantId: taken.tenantId,
          jobId: taken.job.id,
          error,
        }),
      );
    }
  }

  /** Hands out no more jobs ({@link next} returns null); jobs already taken can still finish. */
  stop(): void {
    this.closed = true;
    this.bell.close();
  }

  /** Stops and releases the queue connections (after the taken jobs finished). */
  async close(): Promise<void> {
    this.stop();
    await this.queues.close();
  }
}
