import { InferenceError } from '../inference-error';
import type { SchedulerLimits } from '../types';
import type { PendingRequest, ScheduledRequest } from './scheduled-request';

/** Defaults of {@link SchedulerLimits} that do not depend on the model. */
export const DEFAULT_SCHEDULER_LIMITS = {
  maxBatchSize: 32,
  kvBudgetBytes: 2 ** 31,
  maxPrefillTokens: 2048,
  freePaddingTokens: 64,
} as const;

/**
 * `limits` with the defaults filled in; `maxTokensInFlight` defaults to `maxBatchSize` times
 * `contextLength` (tokens).
 *
 * @throws RangeError when a limit is under 1.
 */
export function resolveSchedulerLimits(
  contextLength: number,
  limits: Partial<SchedulerLimits>,
): SchedulerLimits {
  const maxBatchSize =
    limits.maxBatchSize ?? DEFAULT_SCHEDULER_LIMITS.maxBatchSize;
  const resolved = {
    maxBatchSize,
    maxTokensInFlight: limits.maxTokensInFlight ?? maxBatchSize * contextLength,
    kvBudgetBytes:
      limits.kvBudgetBytes ?? DEFAULT_SCHEDULER_LIMITS.kvBudgetBytes,
    maxPrefillTokens:
      limits.maxPrefillTokens ?? DEFAULT_SCHEDULER_LIMITS.maxPrefillTokens,
    freePaddingTokens:
      limits.freePaddingTokens ?? DEFAULT_SCHEDULER_LIMITS.freePaddingTokens,
  };
  for (const [name, value] of Object.entries(resolved))
    if (!(value >= 1)) throw new RangeError(`${name} must be at least 1`);
  return resolved;
}

/** Tokens a request holds while admitted: prompt plus `maxTokens`, for each of its choices. */
export function reservationOf(spec: ScheduledRequest): number {
  return (spec.promptTokenIds.length + spec.maxTokens) * spec.choices.length;
}

/**
 * Submitted requests waiting in FIFO order, and the tokens reserved by those admitted. A request
 * is admitted while the batch-size, tokens-in-flight and KV-memory limits allow; the head of the
 * queue waits until it fits, so a large request is never starved by smaller ones behind it.
 */
export class AdmissionQueue {
  private readonly waiting: PendingRequest[] = [];
  private reserved = 0;

  constructor(
    private readonly limits: SchedulerLimits,
    /** KV-cache bytes of one token of one sequence. */
    private readonly bytesPerToken: number,
  ) {}

  /** Requests waiting for admission. */
  get length(): number {
    return this.waiting.length;
  }

  /** Tokens reserved by admitted requests that have not settled. */
  get reservedTokens(): number {
    return this.reserved;
  }

  /**
   * The error for a request that needs `tokens` (see {@link reservationOf}), more than the limits
   * allow even alone; `undefined` when it can be admitted once the batch has room.
   */
  tooLarge(tokens: number): InferenceError | undefined {
    if (!this.overLimits(tokens)) return undefined;
    return new InferenceError(
      'context_length_exceeded',
      `This request needs up to ${tokens} tokens of KV cache (prompt plus max_tokens, times n), ` +
        'more than this worker can hold. Please reduce max_tokens, n or the prompt.',
      'max_tokens',
    );
  }

  /** Whether `tokens` in flight pass the token limit or the KV budget. */
  private overLimits(tokens: number): boolean {
    return (
      tokens > this.limits.maxTokensInFlight ||
      tokens * this.bytesPerToken > this.limits.kvBudgetBytes
    );
  }

  /** Queues a request behind those already waiting. */
  push(request: PendingRequest): void {
    this.waiting.push(request);
  }

  /** The waiting requests that match, in queue order (a copy: the caller may settle them). */
  filter(predicate: (request: PendingRequest) => boolean): PendingRequest[] {
    return this.waiting.filter(predicate);
  }

  /**
   * Takes waiting requests, in FIFO order, while the limits allow, and reserves their tokens.
   * `sequences` counts those running or about to (an empty batch always takes the head, whatever
   * the limits). With `oneRunOnly` (beside a long prompt still prefilling) the head also waits
   * when its prompt would need prefill chunks of its own.
   */
  admit(sequences: number, oneRunOnly: boolean): PendingRequest[] {
    const admitted: PendingRequest[] = [];
    let inFlight = sequences;
    let widest = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      const n = next.spec.choices.length;
      const empty = inFlight === 0;
      const tokens = this.reserved + next.reservedTokens;
      const width = Math.max(widest, next.spec.promptTokenIds.length);
      if (
        !empty &&
        (inFlight + n > this.limits.maxBatchSize || this.overLimits(tokens))
      )
        break;
      if (
        (admitted.length > 0 || oneRunOnly) &&
        width * (admitted.length + 1) > this.limits.maxPrefillTokens
      )
        break;
      this.waiting.shift();
      admitted.push(next);
      this.reserved = tokens;
      inFlight += n;
      widest = width;
    }
    return admitted;
  }

  /** Takes a settling request off the queue or, if it was admitted, gives back its reservation. */
  release(request: PendingRequest): void {
    const queued = this.waiting.indexOf(request);
    if (queued >= 0) this.waiting.splice(queued, 1);
    else this.reserved -= request.reservedTokens;
  }
}
