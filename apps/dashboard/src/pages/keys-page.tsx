import { useState } from 'react';
import type { Tenant } from '../api/types';
import { href } from '../router';
import { RequireScope } from '../ui/data-state';
import { KeysPanel } from '../ui/keys-panel';
import { TenantPicker } from '../ui/tenant-picker';

export function KeysPage() {
  const [tenant, setTenant] = useState<Tenant | null>(null);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <RequireScope anyOf={['admin:read']} what="Listing keys">
        <div className="toolbar">
          <TenantPicker
            id="keys-tenant"
            value={tenant?.id ?? ''}
            onChange={setTenant}
          />
          {tenant && (
            <p className="hint">
              <a href={href.tenant(tenant.id)}>Open {tenant.name}</a>
            </p>
          )}
        </div>
        {tenant && (
          <KeysPanel
            key={tenant.id}
            tenantId={tenant.id}
            title={`Keys of ${tenant.name}`}
          />
        )}
      </RequireScope>
    </section>
  );
}
