/** Turns the gateway bench's raw runs into the figures it records, prints and compares. */
import { percentile } from '../bench-report';
import type { LoadRun, StreamRun } from './load';
import { type Buckets, stageTable } from './stage-histograms';

/** The three ways each target is measured. */
export type Phase = 'c1' | 'c50' | 'stream';
export const PHASES: Phase[] = ['c1', 'c50', 'stream'];

/** Everything measured for one target, every round pooled. */
export interface TargetRuns {
  c1: LoadRun[];
  c50: LoadRun[];
  stream: StreamRun[];
  /** Marquee's stage buckets added up over this target's runs, per phase; absent: none recorded. */
  stages: Partial<Record<Phase, Buckets>>;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

function latency(values: number[]) {
  if (!values.length) return null;
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    n: values.length,
  };
}

/** The figures of one target (milliseconds, requests per second). */
export function summarizeTarget(runs: TargetRuns) {
  const c50Clean = runs.c50.filter((r) => r.errors === 0);
  const streams = runs.stream;
  return {
    c1: runs.c1.length
      ? {
          latencyMs: latency(runs.c1.flatMap((r) => r.latencies)),
          requestsPerSecond: runs.c1.map((r) => round(r.requestsPerSecond, 1)),
          errors: runs.c1.reduce((n, r) => n + r.errors, 0),
        }
      : null,
    c50: runs.c50.length
      ? {
          /** The best round without a single error; null when every round had errors. */
          bestRequestsPerSecondWithoutErrors: c50Clean.length
            ? round(Math.max(...c50Clean.map((r) => r.requestsPerSecond)), 1)
            : null,
          requestsPerSecond: runs.c50.map((r) => round(r.requestsPerSecond, 1)),
          errors: runs.c50.map((r) => r.errors),
          latencyMs: latency(runs.c50.flatMap((r) => r.latencies)),
        }
      : null,
    stream: streams.length
      ? {
          streams: streams.reduce((n, r) => n + r.streams, 0),
          errors: streams.reduce((n, r) => n + r.errors, 0),
          firstError: streams.find((r) => r.firstError)?.firstError ?? null,
          tokensPerStream: latency(streams.flatMap((r) => r.tokens)),
          timeToFirstTokenMs: latency(
            streams.flatMap((r) => r.timeToFirstToken),
          ),
          interTokenGapMs: latency(streams.flatMap((r) => r.interTokenGap)),
          totalMs: latency(streams.flatMap((r) => r.total)),
        }
      : null,
    stages: Object.keys(runs.stages).length
      ? Object.fromEntries(
          PHASES.filter((p) => runs.stages[p]).map((p) => [
            p,
            stageTable(runs.stages[p] as Buckets),
          ]),
        )
      : null,
  };
}

export type TargetSummary = ReturnType<typeof summarizeTarget>;

const fmt = (n: number | null | undefined, digits = 2) =>
  n === null || n === undefined
    ? '-'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The table the bench prints (Markdown, so it pastes into an issue). */
export function table(
  rows: { label: string; summary: TargetSummary }[],
): string {
  const head =
    '| target | c=1 p50 ms | c=1 p99 ms | c=50 req/s (best, 0 errors) | c=50 p99 ms | c=50 errors | TTFT p50 ms | TTFT p99 ms | gap p50 ms | gap p99 ms |';
  const lines = rows.map(({ label, summary: s }) =>
    [
      label,
      fmt(s.c1?.latencyMs?.p50),
      fmt(s.c1?.latencyMs?.p99),
      fmt(s.c50?.bestRequestsPerSecondWithoutErrors, 0),
      fmt(s.c50?.latencyMs?.p99, 1),
      s.c50 ? s.c50.errors.join('/') : '-',
      fmt(s.stream?.timeToFirstTokenMs?.p50),
      fmt(s.stream?.timeToFirstTokenMs?.p99),
      fmt(s.stream?.interTokenGapMs?.p50, 3),
      fmt(s.stream?.interTokenGapMs?.p99, 3),
    ].join(' | '),
  );
  return [
    head,
    `|${' --- |'.repeat(10)}`,
    ...lines.map((l) => `| ${l} |`),
  ].join('\n');
}

/** Marquee over Portkey: c=1 p50 and TTFT p50 (lower is better), c=50 throughput (higher is). */
export function ratios(marquee: TargetSummary, portkey: TargetSummary) {
  const over = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || !b ? null : round(a / b, 2);
  return {
    c1P50: over(marquee.c1?.latencyMs?.p50, portkey.c1?.latencyMs?.p50),
    c50Throughput: over(
      marquee.c50?.bestRequestsPerSecondWithoutErrors,
      portkey.c50?.bestRequestsPerSecondWithoutErrors,
    ),
    ttftP50: over(
      marquee.stream?.timeToFirstTokenMs?.p50,
      portkey.stream?.timeToFirstTokenMs?.p50,
    ),
  };
}

/** Stage rows as a Markdown table, one column pair per phase. */
export function stageLines(label: string, summary: TargetSummary): string {
  const stages = summary.stages;
  if (!stages) return `${label}: no stage histograms`;
  const phases = PHASES.filter((p) => stages[p]);
  const names = [
    ...new Set(phases.flatMap((p) => stages[p]?.map((r) => r.stage) ?? [])),
  ];
  const title = { c1: 'c=1', c50: 'c=50', stream: 'stream' };
  const head = `| stage | ${phases.map((p) => `${title[p]} n | ${title[p]} p50 ms | ${title[p]} p99 ms`).join(' | ')} |`;
  const rows = names.map((name) => {
    const cells = phases.map((p) => {
      const row = stages[p]?.find((r) => r.stage === name);
      return `${row?.count ?? 0} | ${fmt(row?.p50Ms, 3)} | ${fmt(row?.p99Ms, 3)}`;
    });
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  return [
    `${label}:`,
    head,
    `|${' --- |'.repeat(1 + phases.length * 3)}`,
    ...rows,
  ].join('\n');
}
