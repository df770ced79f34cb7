import type { ForwardInput } from '../causal-lm-session';
import type { KvCache } from '../kv-cache';
import { paddingMask } from './length-groups';
import type { PendingRequest } from './scheduled-request';

/**
 * Requests admitted together whose prompts are being prefilled, left-padded to one width. A group
 * wider than `maxPrefillTokens` (only ever a lone long prompt) is prefilled a chunk per loop
 * iteration, so running sequences keep decoding in between.
 */
export interface Prefill {
  requests: PendingRequest[];
  width: number;
  /** Columns of the padded prompts already in `cache`. */
  done: number;
  cache?: KvCache;
}

/** A prefill group of admitted requests, left-padded to the longest prompt. */
export function prefillOf(requests: PendingRequest[]): Prefill {
  return {
    requests,
    width: Math.max(...requests.map((r) => r.spec.promptTokenIds.length)),
    done: 0,
  };
}

/**
 * The input of the group's next chunk, columns `group.done` to `end` of its padded prompts, with
 * `maxPrefillTokens` shared out between the rows (at least one column each).
 */
export function nextChunk(
  group: Prefill,
  maxPrefillTokens: number,
): { input: ForwardInput; end: number } {
  const { requests, width, done } = group;
  const chunk = Math.max(1, Math.floor(maxPrefillTokens / requests.length));
  const end = Math.min(width, done + chunk);
  const pad = (r: PendingRequest) => width - r.spec.promptTokenIds.length;
  return {
    end,
    input: {
      inputIds: requests.map((r) =>
        Array.from({ length: end - done }, (_, i) => {
          const col = done + i - pad(r);
          return col < 0 ? 0 : r.spec.promptTokenIds[col];
        }),
      ),
      attentionMask: requests.map((r) => paddingMask(pad(r), end)),
      positionIds: requests.map((r) =>
        Array.from({ length: end - done }, (_, i) =>
          Math.max(0, done + i - pad(r)),
        ),
      ),
      past: group.cache,
      phase: 'prefill',
    },
  };
}

/**
 * Picks the prefill group to run next, one run per loop iteration. A group admitted on its own
 * stays current until its last chunk; while a long one is part-way through its chunks, prompts
 * that arrived after it and fit in one run take turns with it: they wait for one chunk, not all.
 */
export class PrefillTurns {
  private group: Prefill | undefined;
  /** Whether the last run was a chunk of {@link current} (short prompts go next). */
  private chunkRanLast = false;

  /** The group admitted on its own and not yet fully prefilled. */
  get current(): Prefill | undefined {
    return this.group;
  }

  /** Choices of the requests in {@link requests}: sequences that join the batch soon. */
  get sequences(): number {
    return this.requests.reduce((sum, r) => sum + r.spec.choices.length, 0);
  }

  /** Requests of {@link current} still waiting for their first token. */
  get requests(): PendingRequest[] {
    return this.group?.requests.filter((r) => !r.settled) ?? [];
  }

  /**
   * The group to run a chunk of now, or `undefined` for none. `admit` takes waiting requests;
   * with `oneRunOnly` it takes only those that need no chunks of their own.
   */
  next(admit: (oneRunOnly: boolean) => PendingRequest[]): Prefill | undefined {
    if (this.group) {
      const short = this.chunkRanLast ? admit(true) : [];
      this.chunkRanLast = short.length === 0;
      return short.length > 0 ? prefillOf(short) : this.group;
    }
    const admitted = admit(false);
    if (admitted.length === 0) return undefined;
    this.group = prefillOf(admitted);
    this.chunkRanLast = true;
    return this.group;
  }

  /** Called when `group` has run its last chunk or failed. */
  finish(group: Prefill): void {
    if (this.group === group) this.group = undefined;
  }
}
