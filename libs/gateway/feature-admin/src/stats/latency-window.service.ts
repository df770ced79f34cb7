import {
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { Histogram } from 'prom-client';
import {
  type CumulativeBuckets,
  histogramQuantile,
  subtractBuckets,
} from './histogram-quantile';

/** How often the window takes a snapshot of this replica's histograms, in ms. */
const SNAPSHOT_EVERY_MS = 15_000;
/** The window the overview reports on: the last five minutes, in ms. */
export const LATENCY_WINDOW_MS = 5 * 60_000;

interface Snapshot {
  at: number;
  /** Duration buckets of `/v1/*` responses. */
  http: CumulativeBuckets;
  /** Responses by status class: `2xx`, `4xx`, `5xx`... */
  statuses: ReadonlyMap<string, number>;
  ttft: CumulativeBuckets;
  /** Enqueue to a worker taking the job (the `queue_wait` request stage). */
  queueWait: CumulativeBuckets;
}

/** What the overview shows about the OpenAI-compatible API over the window. */
export interface LatencySummary {
  /** When the window starts (the oldest snapshot kept, or the process start). */
  since: Date;
  requests: number;
  /** Responses with a 5xx status. */
  server_errors: number;
  /** Responses with a 4xx status (bad requests, bad keys, quota refusals). */
  refused: number;
  /** 95th percentile of whole responses, streams to their end; seconds; null without requests. */
  p95_seconds: number | null;
  /** 95th percentile of time to first token; seconds; null without tokens. */
  ttft_p95_seconds: number | null;
  /** 95th percentile of the wait between enqueue and a worker taking the job; seconds. */
  queue_wait_p95_seconds: number | null;
}

/**
 * The request-latency part of the overview, from this gateway replica's own Prometheus
 * histograms (the same numbers `/metrics` exports). Histograms only count up, so it keeps a
 * snapshot every 15 s and reports what happened since the oldest one still inside the window.
 * Other replicas' traffic is theirs: Prometheus and the Grafana dashboard see the whole fleet.
 */
@Injectable()
export class LatencyWindow implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LatencyWindow.name);
  private readonly snapshots: Snapshot[] = [];
  private timer?: NodeJS.Timeout;
  private readonly startedAt = new Date();

  constructor(private readonly metrics: GatewayMetrics) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.snapshot()
        .then((s) => {
          this.snapshots.push(s);
          const horizon = Date.now() - LATENCY_WINDOW_MS;
          while ((this.snapshots[0]?.at ?? Infinity) < horizon)
            this.snapshots.shift();
        })
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error },
            'could not snapshot the latency histograms; the overview reports from the last one',
          ),
        );
    }, SNAPSHOT_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async summary(): Promise<LatencySummary> {
    const now = await this.snapshot();
    const oldest = this.snapshots[0];
    const http = subtractBuckets(now.http, oldest?.http);
    const ttft = subtractBuckets(now.ttft, oldest?.ttft);
    const queueWait = subtractBuckets(now.queueWait, oldest?.queueWait);
    const status = (cls: string) =>
      (now.statuses.get(cls) ?? 0) - (oldest?.statuses.get(cls) ?? 0);
    return {
      since: oldest ? new Date(oldest.at) : this.startedAt,
      requests: http.get(Infinity) ?? 0,
      server_errors: status('5xx'),
      refused: status('4xx'),
      p95_seconds: histogramQuantile(0.95, http),
      ttft_p95_seconds: histogramQuantile(0.95, ttft),
      queue_wait_p95_seconds: histogramQuantile(0.95, queueWait),
    };
  }

  private async snapshot(): Promise<Snapshot> {
    const [http, ttft, stages] = await Promise.all([
      this.metrics.httpDuration.get(),
      this.metrics.timeToFirstToken.get(),
      this.metrics.requestStage.get(),
    ]);
    const statuses = new Map<string, number>();
    for (const v of http.values) {
      if (!v.metricName?.endsWith('_count') || !isApi(v.labels.route)) continue;
      const cls = `${String(v.labels.status_code ?? '').charAt(0)}xx`;
      statuses.set(cls, (statuses.get(cls) ?? 0) + v.value);
    }
    return {
      at: Date.now(),
      http: buckets(http.values, (labels) => isApi(labels.route)),
      statuses,
      ttft: buckets(ttft.values, () => true),
      queueWait: buckets(stages.values, (l) => l.stage === 'queue_wait'),
    };
  }
}

type HistogramValues = Awaited<ReturnType<Histogram['get']>>['values'];

const isApi = (route: unknown) =>
  typeof route === 'string' && route.startsWith('/v1/');

/** Sums the `_bucket` series of a histogram over every label set `keep` accepts. */
function buckets(
  values: HistogramValues,
  keep: (labels: HistogramValues[number]['labels']) => boolean,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket') || !keep(v.labels)) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}
