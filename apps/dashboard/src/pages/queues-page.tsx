import type { Queues, WorkerLoad } from '../api/types';
import { href } from '../router';
import { RefreshingPage } from '../ui/refreshing-page';
import {
  formatAgo,
  formatBytes,
  formatClock,
  formatSeconds,
  formatTime,
} from '../ui/format';

const REFRESH_MS = 5_000;

/** Resident memory, and GPU memory used of all on CUDA workers. */
function memoryOf(load: WorkerLoad): string {
  const rss = `${formatBytes(load.rss_bytes)} resident`;
  if (
    load.gpu_memory_used_bytes === null ||
    load.gpu_memory_total_bytes === null
  )
    return rss;
  return `${rss}; GPU ${formatBytes(load.gpu_memory_used_bytes)} of ${formatBytes(load.gpu_memory_total_bytes)}`;
}

function QueuesBody({ q }: { q: Queues }) {
  const failures = q.queues.flatMap((x) =>
    x.recent_failures.map((f) => ({
      ...f,
      model: x.model,
      tenant: x.tenant_name ?? x.tenant_id,
    })),
  );
  const now = Date.parse(q.generated_at);
  return (
    <>
      <h2>Queues</h2>
      <p>
        p95 wait from enqueue to a worker taking the job:{' '}
        <strong data-testid="queue-wait-p95">
          {formatSeconds(q.queue_wait.p95_seconds)}
        </strong>{' '}
        <span className="hint">
          (this gateway, since {formatClock(q.queue_wait.since)})
        </span>
      </p>
      {q.queues.length === 0 ? (
        <p className="state empty">No tenant has queued a request yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Jobs per model and tenant (fair queues)</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Tenant</th>
                <th scope="col" className="num">
                  Waiting
                </th>
                <th scope="col" className="num">
                  Running
                </th>
                <th scope="col" className="num">
                  Delayed
                </th>
                <th scope="col" className="num">
                  Failed (kept)
                </th>
                <th scope="col" className="num">
                  Longest wait
                </th>
              </tr>
            </thead>
            <tbody>
              {q.queues.map((x) => (
                <tr key={`${x.model}|${x.tenant_id}`}>
                  <td>{x.model}</td>
                  <td>
                    <a href={href.tenant(x.tenant_id)}>
                      {x.tenant_name ?? x.tenant_id.slice(0, 8)}
                    </a>
                  </td>
                  <td className="num">{x.waiting}</td>
                  <td className="num">{x.running}</td>
                  <td className="num">{x.delayed}</td>
                  <td className="num">{x.failed}</td>
                  <td className="num">
                    {formatSeconds(x.oldest_wait_seconds)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Workers</h2>
      {q.workers.length === 0 ? (
        <p className="error">
          No live worker: requests are answered 503 no_worker_available.
        </p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>
              Live workers (presence refreshed every few seconds)
            </caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Models</th>
                <th scope="col">Provider</th>
                <th scope="col">Started</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Batch (running / slots)</th>
                <th scope="col">Memory</th>
                <th scope="col">Load errors</th>
              </tr>
            </thead>
            <tbody>
              {q.workers.map((w) => (
                <tr key={w.id}>
                  <td>
                    <code>{w.id}</code>
                  </td>
                  <td>{w.models.join(', ')}</td>
                  <td>{w.execution_provider}</td>
                  <td>{formatTime(w.started_at)}</td>
                  <td>{formatAgo(w.last_heartbeat_at, now)}</td>
                  <td>
                    {w.load
                      ? `${w.load.running} / ${w.load.slots}`
                      : 'not reported'}
                  </td>
                  <td>{w.load ? memoryOf(w.load) : 'not reported'}</td>
                  <td>
                    {Object.keys(w.model_errors).length === 0
                      ? 'none'
                      : Object.entries(w.model_errors).map(([m, e]) => (
                          <div key={m} className="error">
                            {m}: {e}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="hint">
        Batch and memory as of each worker's last heartbeat; its own /metrics
        (METRICS_PORT) has them per model and over time.
      </p>
      <h2>Recent failed jobs</h2>
      {failures.length === 0 ? (
        <p className="state empty">No failed jobs kept.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Latest failures per queue</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Model</th>
                <th scope="col">Tenant</th>
                <th scope="col">Request</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {failures.map((f) => (
                <tr key={f.id}>
                  <td>{formatTime(f.failed_at)}</td>
                  <td>{f.model}</td>
                  <td>{f.tenant}</td>
                  <td>
                    <code>{f.id}</code>
                  </td>
                  <td>{f.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function QueuesPage() {
  return (
    <RefreshingPage<Queues>
      id="queues-title"
      title="Queues and workers"
      path="/queues"
      refreshMs={REFRESH_MS}
      anyOf={['admin:read']}
      scopeWhat="Queues and workers"
      what="queues and workers"
    >
      {(q) => <QueuesBody q={q} />}
    </RefreshingPage>
  );
}
