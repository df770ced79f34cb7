/**
 * Something that went wrong in the intake and was handled (retried, or left to a later pass),
 * for the worker to log and count: nothing here is dropped silently.
 */
export interface QueueProblem {
  kind:
    | 'lock_renewal_failed' // Redis refused or was down; the next renewal tries again
    | 'lock_lost' // another worker's stalled check took the job back; its run claim keeps it from running twice
    | 'job_settle_failed' // completing, failing or handing back a job failed; its lock lapses and it comes back
    | 'marking_failed' // the periodic marking pass failed; the next one runs at the next look
    | 'stalled_ring_failed' // a job put back by the stalled check was not announced; the marking pass finds it
    | 'queue_error'; // BullMQ reported an error on a tenant's queue
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

/** A {@link ReportProblem} for `model` that hands each problem to `onProblem`. */
export function problemReporter(
  model: string,
  onProblem: ((problem: QueueProblem) => void) | undefined,
): ReportProblem {
  return (kind, details = {}) => onProblem?.({ kind, model, ...details });
}
