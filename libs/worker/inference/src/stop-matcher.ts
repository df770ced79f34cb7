/** What a {@link StopMatcher} lets through for one piece of text. */
export interface StopMatch {
  /** Text now safe to emit. */
  text: string;
  /** True when a stop string was found; `text` ends right before it. */
  stopped: boolean;
}

/**
 * Finds stop strings in streamed text, including ones that span tokens. Text that could still be
 * the start of a stop string is held back until it is resolved; the stop string is never emitted.
 */
export class StopMatcher {
  private readonly stops: string[];
  private pending = '';

  /** @param stops stop strings; empty ones are ignored. */
  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Adds newly decoded text. */
  push(text: string): StopMatch {
    const pending = this.pending + text;
    // Held-back text is always a possible stop prefix, so any match starts inside `pending`.
    let at = -1;
    for (const stop of this.stops) {
      const i = pending.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      this.pending = '';
      return { text: pending.slice(0, at), stopped: true };
    }
    const hold = this.heldBackLength(pending);
    this.pending = pending.slice(pending.length - hold);
    return { text: pending.slice(0, pending.length - hold), stopped: false };
  }

  /** Releases text held back as a possible stop prefix; call once when the sequence ends otherwise. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  // Length of the longest suffix of `text` that is a proper prefix of some stop string.
  private heldBackLength(text: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > best; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          best = k;
          break;
        }
      }
    }
    return best;
  }
}
