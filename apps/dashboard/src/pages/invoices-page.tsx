import { useState } from 'react';
import type { Tenant } from '../api/types';
import { useSession } from '../session';
import { RequireScope } from '../ui/data-state';
import { InvoicesPanel } from '../ui/invoices-panel';
import { TenantPicker } from '../ui/tenant-picker';

export function InvoicesPage() {
  const { can } = useSession();
  const [tenant, setTenant] = useState<Tenant | null>(null);
  const [typedId, setTypedId] = useState('');
  return (
    <section aria-labelledby="invoices-title">
      <h1 id="invoices-title">Invoices</h1>
      <p className="hint">
        One invoice per tenant and closed UTC month, summed from the usage
        ledger.
      </p>
      <RequireScope anyOf={['billing']} what="Invoices">
        <div className="toolbar">
          {can('admin:read') ? (
            <TenantPicker
              id="invoices-tenant"
              value={tenant?.id ?? ''}
              onChange={setTenant}
            />
          ) : (
            <div className="field">
              <label htmlFor="invoices-tenant-id">Tenant id</label>
              <input
                id="invoices-tenant-id"
                value={typedId}
                onChange={(e) => setTypedId(e.target.value.trim())}
                aria-describedby="invoices-tenant-note"
              />
              <span id="invoices-tenant-note" className="hint">
                Listing tenants needs admin:read, which your token does not
                have: enter a tenant id.
              </span>
            </div>
          )}
        </div>
        {tenant && (
          <InvoicesPanel
            key={tenant.id}
            tenantId={tenant.id}
            label={tenant.name}
          />
        )}
        {!tenant && /^[0-9a-f-]{36}$/.test(typedId) && (
          <InvoicesPanel key={typedId} tenantId={typedId} />
        )}
      </RequireScope>
    </section>
  );
}
