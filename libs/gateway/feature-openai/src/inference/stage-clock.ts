import type {
  GatewayMetrics,
  RequestStage,
} from '@marquee/shared/util-observability';

/**
 * One request's stopwatch for the stage breakdown (`marquee_request_stage_seconds`): each lap
 * records the time since the previous one as a stage. No metrics: it measures nothing.
 */
export class StageClock {
  private last: number;

  /** @param startedAt `performance.now()` when the request arrived. */
  constructor(
    private readonly metrics: GatewayMetrics | undefined,
    startedAt: number,
  ) {
    this.last = startedAt;
  }

  /** Records the time since the previous lap as `stage`. */
  lap(stage: RequestStage): void {
    const now = performance.now();
    this.metrics?.recordStage(stage, (now - this.last) / 1000);
    this.last = now;
  }

  /**
   * Records `stage` as the time from `since` (a `performance.now()`) until now, off the laps: for
   * work that runs beside the request, not in its line.
   */
  aside(stage: RequestStage, since: number): void {
    this.metrics?.recordStage(stage, (performance.now() - since) / 1000);
  }

  /**
   * Records the time since the previous lap split in two: `inner` ms of it as `innerStage` (a part
   * measured elsewhere, such as the worker's pickup), the rest as `stage`.
   */
  split(stage: RequestStage, innerStage: RequestStage, innerMs: number): void {
    const now = performance.now();
    const inner = Math.min(Math.max(innerMs, 0), now - this.last);
    this.metrics?.recordStage(innerStage, inner / 1000);
    this.metrics?.recordStage(stage, (now - this.last - inner) / 1000);
    this.last = now;
  }
}
