import { useMemo } from 'react';
import type { Overview } from '../api/types';
import { href } from '../router';
import { Chart, type ChartOption } from '../ui/chart';
import { RefreshingPage } from '../ui/refreshing-page';
import {
  formatCount,
  formatMicros,
  formatPercent,
  formatSeconds,
} from '../ui/format';

/** The overview refreshes itself this often (ms). */
const REFRESH_MS = 10_000;

function activityOption(o: Overview): ChartOption {
  const minutes = o.series.map((m) => m.minute.slice(11, 16));
  return {
    legend: { top: 0 },
    xAxis: { type: 'category', data: minutes, name: 'UTC' },
    yAxis: [
      { type: 'value', name: 'requests/min', minInterval: 1 },
      { type: 'value', name: 'tokens/min', splitLine: { show: false } },
    ],
    series: [
      { name: 'Requests', type: 'bar', data: o.series.map((m) => m.requests) },
      {
        name: 'Tokens',
        type: 'line',
        yAxisIndex: 1,
        showSymbol: false,
        data: o.series.map(
          (m) => Number(m.prompt_tokens) + Number(m.completion_tokens),
        ),
      },
    ],
  };
}

function OverviewBody({ o }: { o: Overview }) {
  const option = useMemo(() => activityOption(o), [o]);
  const lastHour = o.series.reduce(
    (sum, m) => ({
      requests: sum.requests + m.requests,
      tokens:
        sum.tokens + Number(m.prompt_tokens) + Number(m.completion_tokens),
      unfinished: sum.unfinished + m.unfinished,
    }),
    { requests: 0, tokens: 0, unfinished: 0 },
  );
  const lastMinute = o.series.at(-1);
  const l = o.latency;
  const window = `last ${l.window_seconds / 60} min, this gateway`;
  return (
    <>
      <dl className="cards">
        <div className="stat">
          <dt>Requests this minute</dt>
          <dd>{formatCount(lastMinute?.requests ?? 0)}</dd>
          <span className="sub">
            {formatCount(lastHour.requests)} in the last hour
          </span>
        </div>
        <div className="stat">
          <dt>Tokens this minute</dt>
          <dd>
            {formatCount(
              Number(lastMinute?.prompt_tokens ?? 0) +
                Number(lastMinute?.completion_tokens ?? 0),
            )}
          </dd>
          <span className="sub">
            {formatCount(lastHour.tokens)} in the last hour
          </span>
        </div>
        <div className="stat">
          <dt>Error rate (5xx)</dt>
          <dd>{formatPercent(l.server_errors, l.requests)}</dd>
          <span className="sub">
            {l.server_errors} of {l.requests} responses; {l.refused} refused
            (4xx); {window}
          </span>
        </div>
        <div className="stat">
          <dt>p95 latency</dt>
          <dd>{formatSeconds(l.p95_seconds)}</dd>
          <span className="sub">
            whole responses, streams to their end; {window}
          </span>
        </div>
        <div className="stat">
          <dt>p95 time to first token</dt>
          <dd>{formatSeconds(l.ttft_p95_seconds)}</dd>
          <span className="sub">{window}</span>
        </div>
        <div className="stat">
          <dt>p95 queue wait</dt>
          <dd>{formatSeconds(l.queue_wait_p95_seconds)}</dd>
          <span className="sub">enqueue to a worker taking it; {window}</span>
        </div>
        <div className="stat">
          <dt>Spend today</dt>
          <dd>{formatMicros(o.spend.today_micros)}</dd>
          <span className="sub">UTC day</span>
        </div>
        <div className="stat">
          <dt>Spend this month</dt>
          <dd>{formatMicros(o.spend.month_micros)}</dd>
          <span className="sub">UTC month</span>
        </div>
        <div className="stat">
          <dt>Workers live</dt>
          <dd>{o.workers === null ? 'unknown' : o.workers.live}</dd>
          <span className="sub">
            {o.workers === null
              ? 'Redis did not answer'
              : o.workers.live === 0
                ? 'no worker: requests get 503'
                : `${o.workers.models.length} models served${o.workers.with_errors ? `, ${o.workers.with_errors} with load errors` : ''}`}
          </span>
        </div>
      </dl>
      <Chart
        option={option}
        label="Requests and tokens per minute, last 60 minutes (usage ledger)"
      />
      <div className="grid-2">
        <div className="table-wrap">
          <table>
            <caption>Top tenants by spend this month</caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col" className="num">
                  Requests
                </th>
                <th scope="col" className="num">
                  Tokens
                </th>
                <th scope="col" className="num">
                  Spend
                </th>
              </tr>
            </thead>
            <tbody>
              {o.top_tenants.length === 0 ? (
                <tr>
                  <td colSpan={4}>No usage this month yet.</td>
                </tr>
              ) : (
                o.top_tenants.map((t) => (
                  <tr key={t.tenant_id}>
                    <td>
                      <a href={href.tenant(t.tenant_id)}>{t.name}</a>
                    </td>
                    <td className="num">{formatCount(t.requests)}</td>
                    <td className="num">{formatCount(t.tokens)}</td>
                    <td className="num">{formatMicros(t.cost_micros)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        <div className="card">
          <h2 style={{ marginTop: 0 }}>Worker pool</h2>
          {o.workers === null ? (
            <p className="error">
              Redis did not answer: the live workers are unknown.
            </p>
          ) : o.workers.live === 0 ? (
            <p className="error">
              No live worker. Requests are answered 503 no_worker_available.
            </p>
          ) : (
            <p>
              {o.workers.with_errors > 0 ? (
                <span className="badge bad">load errors</span>
              ) : (
                <span className="badge ok">healthy</span>
              )}{' '}
              {o.workers.live} live{' '}
              {o.workers.live === 1 ? 'worker' : 'workers'} serving{' '}
              {o.workers.models.join(', ')}.
            </p>
          )}
          <p className="hint">
            <a href={href.queues}>Queues and workers</a> shows waiting jobs per
            model and tenant.
          </p>
        </div>
      </div>
    </>
  );
}

export function OverviewPage() {
  return (
    <RefreshingPage<Overview>
      id="overview-title"
      title="Overview"
      path="/stats/overview"
      refreshMs={REFRESH_MS}
      anyOf={['admin:read', 'billing']}
      scopeWhat="The overview"
      what="the overview"
    >
      {(o) => <OverviewBody o={o} />}
    </RefreshingPage>
  );
}
