import { Fragment, useState } from 'react';
import type { ListOf, Model, Worker } from '../api/types';
import { useSession } from '../session';
import { DataState, RequireScope } from '../ui/data-state';
import { formatMicros } from '../ui/format';
import { PriceEditor } from '../ui/price-editor';
import { useAction } from '../ui/use-action';
import { useResource } from '../ui/use-resource';

function ModelsBody() {
  const { client, can } = useSession();
  const models = useResource(
    (c) => c.request<ListOf<Model>>('GET', '/models'),
    [],
  );
  const workers = useResource(
    (c) => c.request<ListOf<Worker>>('GET', '/workers'),
    [],
    10_000,
  );
  const action = useAction();
  const [sent, setSent] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const canWrite = can('admin:write');

  const servedBy = (name: string) =>
    (workers.data?.data ?? []).filter((w) => w.models.includes(name));
  const errorsFor = (name: string) =>
    (workers.data?.data ?? []).flatMap((w) =>
      w.model_errors[name] ? [`${w.id}: ${w.model_errors[name]}`] : [],
    );

  const control = async (m: Model, verb: 'load' | 'unload') => {
    const answer = await action.run(() =>
      client.request<{ workers_notified: number }>(
        'POST',
        `/models/${m.id}/${verb}`,
        {},
      ),
    );
    if (answer) {
      setSent(
        `${verb === 'load' ? 'Load' : 'Unload'} of ${m.name} sent to ${answer.workers_notified} ${answer.workers_notified === 1 ? 'worker' : 'workers'}; the list below follows within seconds.`,
      );
      setTimeout(workers.reload, 2000);
    }
  };

  return (
    <>
      {!canWrite && (
        <RequireScope
          anyOf={['admin:write']}
          what="Loading, unloading and repricing models"
        >
          {null}
        </RequireScope>
      )}
      {action.error && (
        <p className="error" role="alert">
          {action.error}
        </p>
      )}
      <p className="hint" aria-live="polite">
        {sent}
      </p>
      {workers.status === 'error' && (
        <p className="error" role="alert">
          The live workers could not be listed: “served by” is unknown.
        </p>
      )}
      <DataState
        resource={models}
        what="models"
        isEmpty={(d) => d.data.length === 0}
        empty="No models registered. Register one with POST /admin/v1/models."
      >
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption>Model registry; prices per 1,000,000 tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Task</th>
                  <th scope="col" className="num">
                    Context
                  </th>
                  <th scope="col" className="num">
                    Input price
                  </th>
                  <th scope="col" className="num">
                    Output price
                  </th>
                  <th scope="col">Visibility</th>
                  <th scope="col">Served by</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((m) => {
                  const serving = servedBy(m.name);
                  const errors = errorsFor(m.name);
                  return (
                    <Fragment key={m.id}>
                      <tr>
                        <td>
                          <strong>{m.name}</strong>
                          <div className="hint">
                            v{m.version} · {m.owned_by}
                          </div>
                        </td>
                        <td>
                          {m.task === 'embedding'
                            ? 'embedding'
                            : 'text generation'}
                        </td>
                        <td className="num">
                          {m.context_length.toLocaleString('en-US')}
                        </td>
                        <td className="num">
                          {formatMicros(m.input_price_per_mtok_micros)}
                        </td>
                        <td className="num">
                          {formatMicros(m.output_price_per_mtok_micros)}
                        </td>
                        <td>
                          {m.tenant_id
                            ? `private (${m.tenant_id.slice(0, 8)})`
                            : 'public'}
                        </td>
                        <td>
                          {serving.length === 0 ? (
                            <span className="badge muted">no worker</span>
                          ) : (
                            <span className="badge ok">
                              {serving.length}{' '}
                              {serving.length === 1 ? 'worker' : 'workers'}
                            </span>
                          )}
                          {errors.map((e) => (
                            <div key={e} className="error">
                              {e}
                            </div>
                          ))}
                        </td>
                        <td>
                          {canWrite && (
                            <div className="actions">
                              <button
                                type="button"
                                className="secondary"
                                disabled={action.busy}
                                onClick={() => void control(m, 'load')}
                                aria-label={`Load ${m.name}`}
                              >
                                Load
                              </button>
                              <button
                                type="button"
                                className="secondary"
                                disabled={action.busy}
                                onClick={() => void control(m, 'unload')}
                                aria-label={`Unload ${m.name}`}
                              >
                                Unload
                              </button>
                              <button
                                type="button"
                                className="secondary"
                                onClick={() => setEditing(m.id)}
                                aria-label={`Edit prices of ${m.name}`}
                                aria-expanded={editing === m.id}
                              >
                                Prices
                              </button>
                            </div>
                          )}
                        </td>
                      </tr>
                      {editing === m.id && (
                        <tr>
                          <td colSpan={8}>
                            <PriceEditor
                              model={m}
                              onDone={(saved) => {
                                setEditing(null);
                                if (saved) models.reload();
                              }}
                            />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </DataState>
    </>
  );
}

export function ModelsPage() {
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <RequireScope anyOf={['admin:read']} what="The model registry">
        <ModelsBody />
      </RequireScope>
    </section>
  );
}
