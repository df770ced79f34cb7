import type { StreamOutcome } from './streams';
import { pause } from './until';

/**
 * Steady traffic: `lanes` loops, each sending one request after another until `stop()`. A failed
 * request is followed by a short pause (not the server's retry-after: the test wants to see
 * every answer during an outage).
 */
export class Traffic {
  readonly outcomes: StreamOutcome[] = [];
  private running = true;
  private readonly lanes: Promise<void>[];

  constructor(lanes: number, send: () => Promise<StreamOutcome>) {
    this.lanes = Array.from({ length: lanes }, async () => {
      while (this.running) {
        const outcome = await send();
        this.outcomes.push(outcome);
        if (outcome.error) await pause(100);
      }
    });
  }

  /** Outcomes of requests that started in [from, to). */
  startedBetween(from: number, to = Infinity): StreamOutcome[] {
    return this.outcomes.filter((o) => o.startedAt >= from && o.startedAt < to);
  }

  /** Stops sending and waits for the requests in flight to end. */
  async stop(): Promise<StreamOutcome[]> {
    this.running = false;
    await Promise.all(this.lanes);
    return this.outcomes;
  }
}
