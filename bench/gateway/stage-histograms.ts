/**
 * Marquee's per-stage request histograms, read from the gateway's Prometheus endpoint: scraped
 * before and after each run, the difference is what that run put in, and p50/p99 come from the
 * buckets as Prometheus' `histogram_quantile` computes them (linear within a bucket).
 */

/** The metric the gateway records each request stage in (label `stage`). */
export const STAGE_METRIC = 'marquee_request_stage_seconds';

/** Cumulative bucket counts by upper bound (`le`, seconds; `+Inf` as Infinity), per series. */
export type Buckets = Map<string, Map<number, number>>;

const SERIES = /^(\w+)_bucket\{(.*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Parses one histogram's `_bucket` lines; series are named by their labels other than `le`. */
export function parseBuckets(text: string, metric: string): Buckets {
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    const match = SERIES.exec(line);
    if (!match || match[1] !== metric) continue;
    let le = Number.NaN;
    const labels: string[] = [];
    for (const [, key, value] of match[2].matchAll(LABEL)) {
      if (key === 'le') le = value === '+Inf' ? Infinity : Number(value);
      else labels.push(`${key}=${value}`);
    }
    const series = labels.join(',') || '(all)';
    if (!out.has(series)) out.set(series, new Map());
    out.get(series)?.set(le, Number(match[3]));
  }
  return out;
}

/**
 * Scrapes `url` for `metric`; null when the endpoint answers but has no such histogram (the
 * gateway does not record stages), and throws when the endpoint cannot be read at all.
 */
export async function scrapeBuckets(
  url: string,
  metric = STAGE_METRIC,
): Promise<Buckets | null> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  const buckets = parseBuckets(await response.text(), metric);
  return buckets.size ? buckets : null;
}

/** `into += after - before`, series by series. */
export function addDifference(
  into: Buckets,
  after: Buckets,
  before: Buckets | null,
): void {
  for (const [series, bounds] of after) {
    const sum = into.get(series) ?? new Map<number, number>();
    for (const [le, count] of bounds)
      sum.set(
        le,
        (sum.get(le) ?? 0) + count - (before?.get(series)?.get(le) ?? 0),
      );
    into.set(series, sum);
  }
}

/** The `q` quantile (0..1) in seconds, as `histogram_quantile`; null with no observations. */
export function quantile(
  bounds: Map<number, number>,
  q: number,
): number | null {
  const sorted = [...bounds.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      // Past the last finite bound Prometheus answers that bound.
      if (le === Infinity) return lowerBound;
      return (
        lowerBound +
        ((le - lowerBound) * (rank - lowerCount)) /
          Math.max(count - lowerCount, 1e-12)
      );
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** The stages in request order (as the gateway names them); others follow in the order seen. */
const STAGE_ORDER = [
  'auth',
  'admission',
  'enqueue',
  'queue_wait',
  'worker_pickup',
  'first_token',
  'last_token',
  'report',
  'settlement',
  'response',
];

/** A series' name for the table: its `stage`, with any labels other than `stage` and `service`. */
function stageName(series: string): string {
  const labels = series.split(',');
  const stage = labels.find((l) => l.startsWith('stage='))?.slice(6) ?? series;
  const rest = labels.filter(
    (l) => !l.startsWith('stage=') && !l.startsWith('service='),
  );
  return rest.length ? `${stage} (${rest.join(',')})` : stage;
}

/** One row per series, in request order: observations, p50 and p99 in milliseconds. */
export function stageTable(buckets: Buckets): {
  stage: string;
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
}[] {
  const ms = (s: number | null) =>
    s === null ? null : Number((s * 1000).toFixed(3));
  const rank = (name: string) => {
    const i = STAGE_ORDER.indexOf(name.split(' ')[0]);
    return i < 0 ? STAGE_ORDER.length : i;
  };
  return [...buckets.entries()]
    .map(([series, bounds]) => ({
      stage: stageName(series),
      count: Math.round(Math.max(0, ...bounds.values())),
      p50Ms: ms(quantile(bounds, 0.5)),
      p99Ms: ms(quantile(bounds, 0.99)),
    }))
    .sort((a, b) => rank(a.stage) - rank(b.stage));
}
