import type { Job } from 'bullmq';
import { JobLockLost } from './job-lock-lost.exception';
import type { ReportProblem } from './queue-problem';

/** A job taken from a tenant's queue; finish it exactly once. */
export interface FairJob<T> {
  readonly job: Job<T>;
  readonly tenantId: string;
  /**
   * Aborted, with a {@link JobLockLost} reason, when this worker lost the job's lock: another
   * worker may run it now, so stop. Settling it then does nothing (it is not this worker's).
   */
  readonly signal: AbortSignal;
  complete(): Promise<void>;
  /** Fails the job for good (retrying would not help) or, with `retry`, hands it back to its queue. */
  fail(error: Error, retry?: boolean): Promise<void>;
}

export interface JobLeaseOptions {
  /** The lock lives this long unless renewed; it is renewed every half, ms. */
  lockDurationMs: number;
  report: ReportProblem;
  /** The job is back in its queue: announce it (mark the tenant ready, ring). */
  announce: (tenantId: string) => Promise<void>;
}

/**
 * A job this worker holds: its lock, renewed until the job is settled (completed, failed or
 * handed back), once. A lock found lost is reported once and stops the holder (see
 * {@link FairJob.signal}).
 */
export class JobLease<T> implements FairJob<T> {
  private readonly renewal: ReturnType<typeof setInterval>;
  private readonly lost = new AbortController();
  private settled = false;

  constructor(
    readonly job: Job<T>,
    readonly tenantId: string,
    private readonly token: string,
    private readonly options: JobLeaseOptions,
  ) {
    this.renewal = setInterval(() => this.renew(), options.lockDurationMs / 2);
    this.renewal.unref();
  }

  get signal(): AbortSignal {
    return this.lost.signal;
  }

  readonly complete = (): Promise<void> =>
    this.settle(() => this.job.moveToCompleted(null, this.token, false));

  readonly fail = (error: Error, retry = false): Promise<void> =>
    this.settle(async () => {
      if (!retry) {
        await this.job.moveToFailed(error, this.token, false);
        return;
      }
      await this.job.moveToWait(this.token);
      // Back in its queue: mark the tenant ready again and ring.
      await this.options.announce(this.tenantId);
    });

  private renew(): void {
    const { job, tenantId } = this;
    job.extendLock(this.token, this.options.lockDurationMs).then(
      (extended) => {
        if (extended === 0 && !this.settled && !this.lost.signal.aborted)
          this.loseLock();
      },
      (error: unknown) =>
        this.options.report('lock_renewal_failed', {
          tenantId,
          jobId: job.id,
          error,
        }),
    );
  }

  /** The job may run elsewhere now: no more renewals, and the holder is told to stop. */
  private loseLock(): void {
    clearInterval(this.renewal);
    const { job, tenantId } = this;
    this.options.report('lock_lost', { tenantId, jobId: job.id });
    this.lost.abort(new JobLockLost(tenantId, job.id));
  }

  private async settle(action: () => Promise<unknown>): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    clearInterval(this.renewal);
    // Another worker's job now: settling it would fail on the lock, or undo that worker's run.
    if (this.lost.signal.aborted) return;
    await action();
  }
}
