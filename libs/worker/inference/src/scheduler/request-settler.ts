import { InferenceError } from '../inference-error';
import type { ChoiceDelta } from '../types';
import type { AdmissionQueue } from './admission-queue';
import type { Prefill } from './chunked-prefill';
import type { LengthGroups } from './length-groups';
import { resultOf, type PendingRequest } from './scheduled-request';

/**
 * Ends requests: resolves one when its last choice has finished, rejects it when cancelled or
 * when its model run or its `onDelta` fails, and gives back what it held (its place in the
 * queue or its reservation, and its running rows). A request settles once; later calls do nothing.
 */
export class RequestSettler {
  constructor(
    private readonly admission: AdmissionQueue,
    private readonly groups: LengthGroups,
  ) {}

  /**
   * Cancels the requests whose signal has aborted, waiting, prefilling (in `prefilling`) or
   * running, and takes their rows out of the running groups.
   */
  dropCancelled(prefilling: Prefill | undefined): void {
    const cancelled = (r: PendingRequest) => r.spec.signal?.aborted === true;
    // Settling takes a waiting request off the queue; only admitted ones give back a reservation.
    for (const request of this.admission.filter(cancelled))
      this.cancel(request);
    for (const request of prefilling?.requests ?? [])
      if (cancelled(request)) this.cancel(request);
    let changed = false;
    for (const request of this.groups.requests())
      if (cancelled(request)) {
        this.cancel(request);
        changed = true;
      }
    if (changed) this.groups.regroup();
  }

  /** Hands the request its deltas, then resolves it if all its choices have finished. */
  emit(request: PendingRequest, deltas: ChoiceDelta[]): void {
    if (request.settled) return;
    try {
      request.spec.onDelta(deltas);
    } catch (error) {
      this.fail(request, error);
      return;
    }
    if (request.unfinished === 0) {
      this.settle(request);
      request.resolve(resultOf(request.spec));
    }
  }

  /** Rejects the request with `cancelled`, its partial result attached. */
  cancel(request: PendingRequest): void {
    const error = new InferenceError('cancelled', 'generation was cancelled');
    error.partial = resultOf(request.spec);
    this.settle(request);
    request.reject(error);
  }

  /** Rejects the request with `error`, wrapped as `model_error` unless it is an InferenceError. */
  fail(request: PendingRequest, error: unknown): void {
    if (request.settled) return;
    this.settle(request);
    request.reject(
      error instanceof InferenceError
        ? error
        : new InferenceError(
            'model_error',
            error instanceof Error ? error.message : String(error),
          ),
    );
    if (this.groups.holds(request)) this.groups.regroup();
  }

  private settle(request: PendingRequest): void {
    if (request.settled) return;
    request.settled = true;
    this.admission.release(request);
  }
}
