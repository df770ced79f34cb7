import { useMemo, useState } from 'react';
import type { ListOf, Tenant, UsageReport, UsageRow } from '../api/types';
import { useSession } from '../session';
import { Chart, type ChartOption } from './chart';
import { DataState } from './data-state';
import { download } from './download';
import { formatCount, formatMicros, utcDay } from './format';
import { useResource } from './use-resource';

type Metric = 'tokens' | 'requests' | 'spend';

const METRICS: Record<Metric, { label: string; of(r: UsageRow): number }> = {
  tokens: {
    label: 'Tokens',
    of: (r) => Number(r.prompt_tokens) + Number(r.completion_tokens),
  },
  requests: { label: 'Requests', of: (r) => r.requests },
  spend: { label: 'Spend', of: (r) => Number(r.cost_micros) / 1e6 },
};

/** Every UTC day from `start` to `end`, both included. */
function daysBetween(start: string, end: string): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${start}T00:00:00Z`);
    t <= Date.parse(`${end}T00:00:00Z`);
    t += 86_400_000
  )
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Stacked bars per day, one series per value of `by` (tenant or model). */
function stackedOption(
  report: UsageReport,
  by: (r: UsageRow) => string,
  metric: Metric,
): ChartOption {
  const days = daysBetween(report.start, report.end);
  const groups = [...new Set(report.data.map(by))].sort();
  const totals = new Map<string, number>();
  for (const r of report.data) {
    const key = `${by(r)}|${r.day}`;
    totals.set(key, (totals.get(key) ?? 0) + METRICS[metric].of(r));
  }
  return {
    legend: { top: 0, type: 'scroll' },
    xAxis: { type: 'category', data: days },
    yAxis: {
      type: 'value',
      name: METRICS[metric].label,
      minInterval: metric === 'spend' ? 0 : 1,
    },
    series: groups.map((g) => ({
      name: g,
      type: 'bar',
      stack: 'total',
      // Named points: ECharts' spoken summary then reads "the data for <day> is <value>".
      data: days.map((d) => ({ name: d, value: totals.get(`${g}|${d}`) ?? 0 })),
    })),
  };
}

function csvOf(rows: UsageRow[], tenantName: (id?: string) => string): string {
  const quote = (v: string) =>
    /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  const lines = [
    'day,tenant_id,tenant,model,requests,prompt_tokens,completion_tokens,cost_micros',
    ...rows.map((r) =>
      [
        r.day ?? '',
        r.tenant_id ?? '',
        tenantName(r.tenant_id),
        r.model ?? '',
        String(r.requests),
        r.prompt_tokens,
        r.completion_tokens,
        r.cost_micros,
      ]
        .map(quote)
        .join(','),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Usage over a date range: stacked charts by tenant and by model, the rows behind them in a
 * table, CSV export. With `tenantId`, one tenant's usage only.
 */
export function UsageView({ tenantId }: { tenantId?: string }) {
  const { can } = useSession();
  const [start, setStart] = useState(() => utcDay(-6));
  const [end, setEnd] = useState(() => utcDay(0));
  const [metric, setMetric] = useState<Metric>('tokens');
  const usage = useResource(
    (c) => {
      const q = new URLSearchParams({
        start,
        end,
        group_by: 'day,tenant,model',
      });
      if (tenantId) q.set('tenant_id', tenantId);
      return c.request<UsageReport>('GET', `/usage?${q.toString()}`);
    },
    [start, end, tenantId],
  );
  // Names need admin:read; a billing-only token sees tenant ids.
  const tenants = useResource(
    async (c) =>
      can('admin:read')
        ? (await c.request<ListOf<Tenant>>('GET', '/tenants?limit=500')).data
        : [],
    [],
  );
  const names = useMemo(
    () => new Map((tenants.data ?? []).map((t) => [t.id, t.name])),
    [tenants.data],
  );
  const tenantName = (id?: string) =>
    id ? (names.get(id) ?? id.slice(0, 8)) : '';
  const byTenant = useMemo(
    () =>
      usage.data
        ? stackedOption(usage.data, (r) => tenantName(r.tenant_id), metric)
        : null,
    [usage.data, metric, names],
  );
  const byModel = useMemo(
    () =>
      usage.data
        ? stackedOption(usage.data, (r) => r.model ?? '', metric)
        : null,
    [usage.data, metric],
  );

  return (
    <section aria-label="Usage">
      <form className="inline" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="usage-start">From (UTC day)</label>
          <input
            id="usage-start"
            type="date"
            value={start}
            max={end}
            onChange={(e) => e.target.value && setStart(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="usage-end">To (UTC day, included)</label>
          <input
            id="usage-end"
            type="date"
            value={end}
            min={start}
            onChange={(e) => e.target.value && setEnd(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="usage-metric">Chart</label>
          <select
            id="usage-metric"
            value={metric}
            onChange={(e) => setMetric(e.target.value as Metric)}
          >
            <option value="tokens">Tokens</option>
            <option value="requests">Requests</option>
            <option value="spend">Spend</option>
          </select>
        </div>
        <button type="button" className="secondary" onClick={usage.reload}>
          Refresh
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!usage.data || usage.data.data.length === 0}
          onClick={() =>
            usage.data &&
            download(
              `usage-${start}-${end}${tenantId ? `-${tenantId}` : ''}.csv`,
              new Blob([csvOf(usage.data.data, tenantName)], {
                type: 'text/csv',
              }),
            )
          }
        >
          Export CSV
        </button>
      </form>
      <DataState
        resource={usage}
        what="usage"
        isEmpty={(r) => r.data.length === 0}
        empty="No usage in this date range."
      >
        {(report) => (
          <>
            <dl className="cards">
              <div className="stat">
                <dt>Requests</dt>
                <dd data-testid="usage-total-requests">
                  {formatCount(report.totals.requests)}
                </dd>
              </div>
              <div className="stat">
                <dt>Prompt tokens</dt>
                <dd>{formatCount(report.totals.prompt_tokens)}</dd>
              </div>
              <div className="stat">
                <dt>Completion tokens</dt>
                <dd>{formatCount(report.totals.completion_tokens)}</dd>
              </div>
              <div className="stat">
                <dt>Spend</dt>
                <dd>{formatMicros(report.totals.cost_micros)}</dd>
              </div>
            </dl>
            <div className="grid-2">
              {!tenantId && byTenant && (
                <Chart
                  option={byTenant}
                  label={`${METRICS[metric].label} per day by tenant`}
                />
              )}
              {byModel && (
                <Chart
                  option={byModel}
                  label={`${METRICS[metric].label} per day by model`}
                />
              )}
            </div>
            <div className="table-wrap">
              <table data-testid="usage-table">
                <caption>
                  Usage {report.start} to {report.end} (UTC), by day, tenant and
                  model
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Day</th>
                    <th scope="col">Tenant</th>
                    <th scope="col">Model</th>
                    <th scope="col" className="num">
                      Requests
                    </th>
                    <th scope="col" className="num">
                      Prompt tokens
                    </th>
                    <th scope="col" className="num">
                      Completion tokens
                    </th>
                    <th scope="col" className="num">
                      Spend
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {report.data.map((r) => (
                    <tr key={`${r.day}|${r.tenant_id}|${r.model}`}>
                      <td>{r.day}</td>
                      <td>{tenantName(r.tenant_id)}</td>
                      <td>{r.model}</td>
                      <td className="num">{formatCount(r.requests)}</td>
                      <td className="num">{formatCount(r.prompt_tokens)}</td>
                      <td className="num">
                        {formatCount(r.completion_tokens)}
                      </td>
                      <td className="num">{formatMicros(r.cost_micros)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </DataState>
    </section>
  );
}
