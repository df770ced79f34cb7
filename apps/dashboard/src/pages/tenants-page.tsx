import { type FormEvent, useMemo, useState } from 'react';
import type { ListOf, Plan, Tenant } from '../api/types';
import { href } from '../router';
import { useSession } from '../session';
import { DataState, RequireScope } from '../ui/data-state';
import { formatTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useResource } from '../ui/use-resource';

export function TenantsPage() {
  const { client } = useSession();
  const tenants = useResource(
    (c) => c.request<ListOf<Tenant>>('GET', '/tenants?limit=500'),
    [],
  );
  const plans = useResource(
    (c) => c.request<ListOf<Plan>>('GET', '/plans'),
    [],
  );
  const [search, setSearch] = useState('');
  const [name, setName] = useState('');
  const [planId, setPlanId] = useState('');
  const action = useAction();
  const planName = useMemo(
    () => new Map((plans.data?.data ?? []).map((p) => [p.id, p.name])),
    [plans.data],
  );

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const created = await action.run(() =>
      client.request<Tenant>('POST', '/tenants', {
        name: name.trim(),
        ...(planId ? { plan_id: planId } : {}),
      }),
    );
    if (created) {
      setName('');
      window.location.hash = href.tenant(created.id);
    }
  };

  return (
    <section aria-labelledby="tenants-title">
      <h1 id="tenants-title">Tenants</h1>
      <RequireScope anyOf={['admin:read']} what="Listing tenants">
        <RequireScope anyOf={['admin:write']} what="Creating tenants">
          <form
            className="inline card"
            onSubmit={(e) => void create(e)}
            aria-label="Create a tenant"
          >
            <div className="field">
              <label htmlFor="tenant-name">New tenant name</label>
              <input
                id="tenant-name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                maxLength={200}
              />
            </div>
            <div className="field">
              <label htmlFor="tenant-plan">Plan</label>
              <select
                id="tenant-plan"
                value={planId}
                onChange={(e) => setPlanId(e.target.value)}
              >
                <option value="">No plan (default limits)</option>
                {(plans.data?.data ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" disabled={action.busy}>
              Create tenant
            </button>
            {action.error && (
              <p className="error" role="alert">
                {action.error}
              </p>
            )}
          </form>
        </RequireScope>
        <div className="toolbar">
          <div className="field">
            <label htmlFor="tenant-search">Search tenants</label>
            <input
              id="tenant-search"
              type="search"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              placeholder="Name or id"
            />
          </div>
        </div>
        <DataState
          resource={tenants}
          what="tenants"
          isEmpty={(d) => d.data.length === 0}
          empty="No tenants yet. Create the first one above."
        >
          {(d) => {
            const needle = search.trim().toLowerCase();
            const shown = d.data.filter(
              (t) =>
                !needle ||
                t.name.toLowerCase().includes(needle) ||
                t.id.startsWith(needle),
            );
            return (
              <div className="table-wrap">
                <table>
                  <caption>
                    {shown.length} of {d.data.length} tenants
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Status</th>
                      <th scope="col">Plan</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.length === 0 ? (
                      <tr>
                        <td colSpan={4}>No tenant matches “{search}”.</td>
                      </tr>
                    ) : (
                      shown.map((t) => (
                        <tr key={t.id}>
                          <td>
                            <a href={href.tenant(t.id)}>{t.name}</a>
                          </td>
                          <td>
                            <span
                              className={`badge ${t.status === 'active' ? 'ok' : 'bad'}`}
                            >
                              {t.status}
                            </span>
                          </td>
                          <td>
                            {t.plan_id
                              ? (planName.get(t.plan_id) ??
                                t.plan_id.slice(0, 8))
                              : 'default limits'}
                          </td>
                          <td>{formatTime(t.created_at)}</td>
                        </tr>
                      ))
                    )}
                  </tbody>
                </table>
              </div>
            );
          }}
        </DataState>
      </RequireScope>
    </section>
  );
}
