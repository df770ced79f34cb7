import type { Job } from 'bullmq';
import { JobLease } from './job-lease';
import { JobLockLost } from './job-lock-lost.exception';
import type { QueueProblem } from './queue-problem';

/** A BullMQ job whose lock answers what `extendLock` is told to. */
function fakeJob() {
  return {
    id: 'job-1',
    extendLock: jest.fn<Promise<number>, [string, number]>(async () => 1),
    moveToCompleted: jest.fn(async () => undefined),
    moveToFailed: jest.fn(async () => undefined),
    moveToWait: jest.fn(async () => undefined),
  };
}

describe('JobLease', () => {
  let problems: Pick<QueueProblem, 'kind' | 'tenantId' | 'jobId'>[];
  let announce: jest.Mock<Promise<void>>;
  const lease = (job: ReturnType<typeof fakeJob>) =>
    new JobLease(job as unknown as Job<unknown>, 'tenant', 'token', {
      lockDurationMs: 1_000,
      report: (kind, details) => problems.push({ kind, ...details }),
      announce,
    });

  beforeEach(() => {
    jest.useFakeTimers();
    problems = [];
    announce = jest.fn(async () => undefined);
  });

  afterEach(() => jest.useRealTimers());

  it('renews the lock every half of its duration until the job is settled', async () => {
    const job = fakeJob();
    const held = lease(job);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(job.extendLock).toHaveBeenCalledTimes(2);
    expect(job.extendLock).toHaveBeenLastCalledWith('token', 1_000);
    await held.complete();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(job.extendLock).toHaveBeenCalledTimes(2);
    expect(job.moveToCompleted).toHaveBeenCalledWith(null, 'token', false);
  });

  it('settles once: a second complete or fail does nothing', async () => {
    const job = fakeJob();
    const held = lease(job);
    await held.complete();
    await held.fail(new Error('late'));
    await held.complete();
    expect(job.moveToCompleted).toHaveBeenCalledTimes(1);
    expect(job.moveToFailed).not.toHaveBeenCalled();
  });

  it('hands a job back to its queue and announces it', async () => {
    const job = fakeJob();
    await lease(job).fail(new Error('shutting down'), true);
    expect(job.moveToWait).toHaveBeenCalledWith('token');
    expect(announce).toHaveBeenCalledWith('tenant');
    expect(job.moveToFailed).not.toHaveBeenCalled();
  });

  it('tells the holder to stop when the lock is lost, reports it once and settles nothing', async () => {
    const job = fakeJob();
    job.extendLock.mockResolvedValue(0);
    const held = lease(job);
    const stopped = jest.fn();
    held.signal.addEventListener('abort', stopped);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(held.signal.reason).toBeInstanceOf(JobLockLost);
    expect(problems).toEqual([
      { kind: 'lock_lost', tenantId: 'tenant', jobId: 'job-1' },
    ]);
    // No more renewals of a lock that is gone.
    expect(job.extendLock).toHaveBeenCalledTimes(1);
    await held.complete();
    await held.fail(new Error('late'), true);
    expect(job.moveToCompleted).not.toHaveBeenCalled();
    expect(job.moveToWait).not.toHaveBeenCalled();
  });

  it('reports a failed renewal and tries again at the next', async () => {
    const job = fakeJob();
    job.extendLock.mockRejectedValueOnce(new Error('Redis down'));
    const held = lease(job);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'lock_renewal_failed', jobId: 'job-1' }),
    ]);
    expect(job.extendLock).toHaveBeenCalledTimes(2);
    expect(held.signal.aborted).toBe(false);
    await held.complete();
  });

  it('reports no lost lock when the renewal answers after the job was settled', async () => {
    const job = fakeJob();
    let answer!: (extended: number) => void;
    job.extendLock.mockReturnValueOnce(
      new Promise<number>((resolve) => (answer = resolve)),
    );
    const held = lease(job);
    await jest.advanceTimersByTimeAsync(500);
    await held.complete();
    answer(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(problems).toEqual([]);
    expect(held.signal.aborted).toBe(false);
  });
});
