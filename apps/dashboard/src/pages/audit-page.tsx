import { useState } from 'react';
import type { AuditEntry, ListOf } from '../api/types';
import { DataState, RequireScope } from '../ui/data-state';
import { formatTime } from '../ui/format';
import { useResource } from '../ui/use-resource';

function AuditBody() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const log = useResource(
    (c) => {
      const q = new URLSearchParams({ limit: '200' });
      if (action.trim()) q.set('action', action.trim());
      if (actor.trim()) q.set('actor', actor.trim());
      return c.request<ListOf<AuditEntry>>('GET', `/audit-log?${q.toString()}`);
    },
    [action, actor],
  );
  return (
    <>
      <form
        className="inline"
        onSubmit={(e) => e.preventDefault()}
        aria-label="Filter the audit log"
      >
        <div className="field">
          <label htmlFor="audit-action">
            Action (exact, e.g. api_key.revoke)
          </label>
          <input
            id="audit-action"
            value={action}
            onChange={(e) => setAction(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor (token id or bootstrap)</label>
          <input
            id="audit-actor"
            value={actor}
            onChange={(e) => setActor(e.target.value)}
          />
        </div>
      </form>
      <DataState
        resource={log}
        what="the audit log"
        isEmpty={(d) => d.data.length === 0}
        empty="No audit-log entries match."
      >
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption>
                Latest {d.data.length} admin writes, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((e) => (
                  <tr key={e.id}>
                    <td>{formatTime(e.created_at)}</td>
                    <td>
                      {e.actor === 'bootstrap' ? (
                        'bootstrap'
                      ) : (
                        <code>{e.actor.slice(0, 8)}</code>
                      )}
                    </td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      {e.target_type}{' '}
                      {e.target_id && <code>{e.target_id.slice(0, 8)}</code>}
                    </td>
                    <td>
                      <code className="details">
                        {JSON.stringify(e.details)}
                      </code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
    </>
  );
}

export function AuditPage() {
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <p className="hint">
        Every admin write: who (token id, or bootstrap), what, on which object.
      </p>
      <RequireScope anyOf={['admin:read']} what="The audit log">
        <AuditBody />
      </RequireScope>
    </section>
  );
}
