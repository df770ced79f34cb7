import { Get, Logger } from '@nestjs/common';
import type { WorkerPresence } from '@marquee/contracts/queue';
import { monthStart } from '@marquee/gateway/data-access-db';
import { WorkerPresenceService } from '@marquee/gateway/data-access-queue';
import { RequireAdmin } from '@marquee/gateway/feature-auth';
import { ApiRoute } from '@marquee/gateway/util-http';
import { AdminController } from '../http/admin-controller';
import { iso, str } from '../http/present';
import { LATENCY_WINDOW_MS, LatencyWindow } from './latency-window.service';
import { type MinuteUsage, UsageOverviewQuery } from './usage-overview.query';

/** Minutes of per-minute activity the overview returns. */
const SERIES_MINUTES = 60;
const TOP_TENANTS = 5;
const MINUTE_MS = 60_000;

/** Every minute of the window, the quiet ones as zeros, oldest first. */
function fillMinutes(rows: MinuteUsage[], end: Date) {
  const byMinute = new Map(rows.map((r) => [r.minute.getTime(), r]));
  const last = Math.floor(end.getTime() / MINUTE_MS) * MINUTE_MS;
  return Array.from({ length: SERIES_MINUTES }, (_, i) => {
    const at = last - (SERIES_MINUTES - 1 - i) * MINUTE_MS;
    const row = byMinute.get(at);
    return {
      minute: new Date(at).toISOString(),
      requests: row?.requests ?? 0,
      prompt_tokens: str(row?.promptTokens ?? 0n),
      completion_tokens: str(row?.completionTokens ?? 0n),
      unfinished: row?.unfinished ?? 0,
    };
  });
}

/** The dashboard's first page: activity, spend, top tenants, latency and the worker pool. */
@AdminController('stats')
export class OverviewController {
  private readonly logger = new Logger(OverviewController.name);

  constructor(
    private readonly usage: UsageOverviewQuery,
    private readonly latency: LatencyWindow,
    private readonly presence: WorkerPresenceService,
  ) {}

  @Get('stats/overview')
  @RequireAdmin('billing', 'admin:read')
  @ApiRoute({
    summary: 'Activity, spend, top tenants, latency and workers at a glance',
    description: `\`series\`: the last ${SERIES_MINUTES} minutes of the usage ledger, one entry per UTC minute (requests and tokens that ended then). \`spend\`: micro-units today and this month (UTC). \`top_tenants\`: by spend this month. \`latency\`: this gateway replica's /v1 responses over the last ${LATENCY_WINDOW_MS / 60_000} minutes (p95 of whole responses, streams to their end, of time to first token and of the queue wait). \`workers\`: live workers, or null when Redis does not answer.`,
  })
  async overview() {
    const now = new Date();
    const dayStart = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()),
    );
    const month = monthStart(now);
    const since = new Date(
      Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS -
        (SERIES_MINUTES - 1) * MINUTE_MS,
    );
    const [minutes, spend, top, latency, workers] = await Promise.all([
      this.usage.perMinute(since),
      this.usage.spend(dayStart, month),
      this.usage.topTenants(month, TOP_TENANTS),
      this.latency.summary(),
      // The page still shows the ledger's numbers when Redis is down; it says so for workers.
      this.presence.live().catch((error: unknown): WorkerPresence[] | null => {
        this.logger.warn(
          { err: error },
          'overview: could not list live workers (Redis); the page says so',
        );
        return null;
      }),
    ]);
    return {
      object: 'overview' as const,
      generated_at: now.toISOString(),
      series: fillMinutes(minutes, now),
      spend: {
        today_micros: str(spend.today),
        month_micros: str(spend.month),
      },
      top_tenants: top.map((t) => ({
        tenant_id: t.tenantId,
        name: t.name,
        requests: t.requests,
        tokens: str(t.tokens),
        cost_micros: str(t.costMicros),
      })),
      latency: {
        since: iso(latency.since),
        window_seconds: LATENCY_WINDOW_MS / 1000,
        requests: latency.requests,
        server_errors: latency.server_errors,
        refused: latency.refused,
        p95_seconds: latency.p95_seconds,
        ttft_p95_seconds: latency.ttft_p95_seconds,
        queue_wait_p95_seconds: latency.queue_wait_p95_seconds,
      },
      workers:
        workers === null
          ? null
          : {
              live: workers.length,
              models: [...new Set(workers.flatMap((w) => w.models))].sort(),
              with_errors: workers.filter(
                (w) => Object.keys(w.modelErrors ?? {}).length > 0,
              ).length,
            },
    };
  }
}
