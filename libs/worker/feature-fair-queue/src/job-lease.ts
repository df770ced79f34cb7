import type { Job } from 'bullmq';
import type { ReportProblem } from './queue-problem';

/** A job taken from a tenant's queue; finish it exactly once. */
export interface FairJob<T> {
  readonly job: Job<T>;
  readonly tenantId: string;
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
 * handed back), once.
 */
export class JobLease<T> implements FairJob<T> {
  private readonly renewal: ReturnType<typeof setInterval>;
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
        if (extended === 0 && !this.settled)
          this.options.report('lock_lost', { tenantId, jobId: job.id });
      },
      (error: unknown) =>
        this.options.report('lock_renewal_failed', {
          tenantId,
          jobId: job.id,
          error,
        }),
    );
  }

  private async settle(action: () => Promise<unknown>): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    clearInterval(this.renewal);
    await action();
  }
}
