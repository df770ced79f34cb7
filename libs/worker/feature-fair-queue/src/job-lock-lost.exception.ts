/**
 * Why a held job's signal aborted: its lock was lost (a stalled check, here or on another
 * worker, found it lapsed and took the job back), so another worker may run it. Stop the job;
 * it is no longer this worker's to complete or fail.
 */
export class JobLockLost extends Error {
  override readonly name = 'JobLockLost';

  constructor(
    readonly tenantId: string,
    readonly jobId: string | undefined,
  ) {
    super(`lost the lock of job ${jobId ?? '?'} of tenant ${tenantId}`);
  }
}
