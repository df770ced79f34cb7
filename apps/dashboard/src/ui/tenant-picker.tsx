import { useEffect } from 'react';
import type { ListOf, Tenant } from '../api/types';
import { DataState } from './data-state';
import { useResource } from './use-resource';

/** A labelled tenant select; picks the first tenant when none is chosen yet. */
export function TenantPicker({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange(tenant: Tenant | null): void;
}) {
  const tenants = useResource(
    (c) => c.request<ListOf<Tenant>>('GET', '/tenants?limit=500'),
    [],
  );
  const list = tenants.data?.data;
  useEffect(() => {
    if (!value && list && list.length > 0) onChange(list[0]);
  }, [list, value, onChange]);
  return (
    <DataState
      resource={tenants}
      what="tenants"
      isEmpty={(d) => d.data.length === 0}
      empty="No tenants yet: create one on the Tenants page."
    >
      {(d) => (
        <div className="field">
          <label htmlFor={id}>Tenant</label>
          <select
            id={id}
            value={value}
            onChange={(e) =>
              onChange(d.data.find((t) => t.id === e.target.value) ?? null)
            }
          >
            {d.data.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
                {t.status === 'suspended' ? ' (suspended)' : ''}
              </option>
            ))}
          </select>
        </div>
      )}
    </DataState>
  );
}
