import type { ForwardInput } from '../causal-lm-session';
import type { ChoiceStream } from '../choice-stream';
import { KvCache, type KvLayout } from '../kv-cache';
import type { PendingRequest } from './scheduled-request';

/** A running choice: one row of its group's cache. */
export interface Sequence {
  request: PendingRequest;
  choice: ChoiceStream;
  /** Real (unpadded) positions cached for this sequence; also the position of its next token. */
  length: number;
  lastToken: number;
}

/** Running sequences of similar length that decode in one model run over one left-padded cache. */
export interface LengthGroup {
  rows: Sequence[];
  cache: KvCache;
  /** Positions in `cache`: the longest row's length. */
  width: number;
}

/** Where a sequence's cached positions are: the last `keep` positions of `row` of `cache`. */
export interface Placed {
  seq: Sequence;
  cache: KvCache;
  row: number;
  keep: number;
}

/**
 * The running sequences, cut by length into groups that each decode in one model run. Sequences
 * whose lengths differ a lot go to separate groups, so short sequences do not pay for a long
 * one's width, and the padded cache stays within twice the real one (plus `freePaddingTokens`
 * per row).
 */
export class LengthGroups {
  private groups: LengthGroup[] = [];

  constructor(
    private readonly kvLayout: KvLayout,
    /** Tokens of padding a row may carry, as in `SchedulerLimits`. */
    private readonly freePaddingTokens: number,
  ) {}

  /** The groups, longest first; each is one model run per decode step. */
  get all(): readonly LengthGroup[] {
    return this.groups;
  }

  /** Running sequences, all groups together. */
  get sequences(): number {
    return this.groups.reduce((sum, g) => sum + g.rows.length, 0);
  }

  /** The requests that have a running sequence. */
  requests(): Set<PendingRequest> {
    return new Set(this.groups.flatMap((g) => g.rows.map((s) => s.request)));
  }

  /** Whether `request` has a running sequence. */
  holds(request: PendingRequest): boolean {
    return this.groups.some((g) => g.rows.some((s) => s.request === request));
  }

  /** Whether a row has finished or its request has settled: {@link regroup} would drop it. */
  hasEnded(): boolean {
    return this.groups.some((g) =>
      g.rows.some((s) => s.choice.finishReason || s.request.settled),
    );
  }

  /**
   * Drops finished and settled sequences, adds `joining` ones, sorts them by length and cuts
   * them into groups where no row carries more padding than `freePaddingTokens` or half the
   * group's width. A group whose rows, order and width are unchanged keeps its cache; any other
   * is gathered anew, which also trims the padding that leaving sequences leave behind. Caches
   * no group keeps (the old groups' and the joining ones') are released.
   */
  regroup(joining: readonly Placed[] = []): void {
    const live = [...this.placed(), ...joining]
      .filter(({ seq }) => !seq.choice.finishReason && !seq.request.settled)
      .sort((a, b) => b.keep - a.keep);
    const parts: Placed[][] = [];
    for (const p of live) {
      const part = parts.at(-1);
      const width = part?.[0].keep ?? 0;
      if (
        part &&
        (width - p.keep <= this.freePaddingTokens || p.keep * 2 >= width)
      )
        part.push(p);
      else parts.push([p]);
    }
    const before = new Set([
      ...this.groups.map((g) => g.cache),
      ...joining.map((p) => p.cache),
    ]);
    this.groups = parts.map((part) => {
      const width = part[0].keep;
      const cache = part[0].cache;
      const unchanged =
        cache.batch === part.length &&
        cache.length === width &&
        part.every((p, i) => p.cache === cache && p.row === i);
      return {
        rows: part.map((p) => p.seq),
        width,
        cache: unchanged ? cache : KvCache.gather(this.kvLayout, part, width),
      };
    });
    // The groups own their caches: what no group kept is freed now (device memory).
    for (const g of this.groups) before.delete(g.cache);
    for (const cache of before) cache.release();
  }

  private placed(): Placed[] {
    return this.groups.flatMap((g) =>
      g.rows.map((seq, row) => ({
        seq,
        cache: g.cache,
        row,
        keep: seq.length,
      })),
    );
  }
}

/**
 * The input of one decode step of `group`: each row's last token, at the row's own position
 * (counted from its first real token), with the mask hiding the row's left padding.
 */
export function decodeInput(group: LengthGroup): ForwardInput {
  const { rows, width } = group;
  return {
    inputIds: rows.map((s) => [s.lastToken]),
    attentionMask: rows.map((s) => paddingMask(width - s.length, width + 1)),
    positionIds: rows.map((s) => [s.length]),
    past: group.cache,
    phase: 'decode',
  };
}

/** An attention-mask row: `pad` zeros then ones, `width` in all. */
export function paddingMask(pad: number, width: number): number[] {
  const row = new Array<number>(width).fill(1);
  row.fill(0, 0, pad);
  return row;
}
