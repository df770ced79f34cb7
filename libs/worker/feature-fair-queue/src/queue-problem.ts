import { Logger } from '@nestjs/common';

/**
 * Something that went wrong in the intake and was handled (retried, or left to a later pass),
 * for the worker to log and count: nothing here is dropped silently.
 */
export interface QueueProblem {
  kind:
    | 'lock_renewal_failed' // Redis refused or was down; the next renewal tries again
    | 'lock_lost' // a stalled check took the job back (it may run elsewhere): its holder's signal aborts, and it is not settled here
    | 'job_settle_failed' // completing, failing or handing back a job failed; its lock lapses and it comes back
    | 'marking_failed' // the periodic marking pass (or one tenant's mark) failed; the next pass is a period later
    | 'stalled_ring_failed' // a job put back by the stalled check was not announced; the marking pass finds it
    | 'queue_error'; // BullMQ or Redis failed on a tenant's queue, the model's bell or a look for jobs; the slots look again
  model: string;
  tenantId?: string;
  jobId?: string;
  error?: unknown;
}

/** Tells of a problem of one model's intake (the model is filled in). */
export type ReportProblem = (
  kind: QueueProblem['kind'],
  details?: Omit<QueueProblem, 'kind' | 'model'>,
) => void;

/**
 * A {@link ReportProblem} for `model` that hands each problem to `onProblem`, or, without one,
 * logs it as a warning (never drops it).
 */
export function problemReporter(
  model: string,
  onProblem: ((problem: QueueProblem) => void) | undefined,
): ReportProblem {
  const logger = onProblem ? null : new Logger('FairJobSource');
  return (kind, details = {}) => {
    const problem: QueueProblem = { kind, model, ...details };
    if (onProblem) return onProblem(problem);
    const { error, ...context } = problem;
    logger?.warn(
      { ...context, ...(error === undefined ? {} : { err: String(error) }) },
      'job intake problem (handled)',
    );
  };
}
