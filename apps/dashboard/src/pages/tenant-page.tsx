import { useState } from 'react';
import type { ListOf, Plan, Tenant } from '../api/types';
import { href } from '../router';
import { useSession } from '../session';
import { CreditsPanel } from '../ui/credits-panel';
import { DataState, RequireScope } from '../ui/data-state';
import { formatTime } from '../ui/format';
import { InvoicesPanel } from '../ui/invoices-panel';
import { KeysPanel } from '../ui/keys-panel';
import { UsageView } from '../ui/usage-view';
import { useAction } from '../ui/use-action';
import { useResource } from '../ui/use-resource';

function TenantHeader({ tenant, reload }: { tenant: Tenant; reload(): void }) {
  const { client } = useSession();
  const plans = useResource(
    (c) => c.request<ListOf<Plan>>('GET', '/plans'),
    [],
  );
  const [planId, setPlanId] = useState(tenant.plan_id ?? '');
  const action = useAction();
  const currentPlan = plans.data?.data.find((p) => p.id === tenant.plan_id);

  const savePlan = async () => {
    if (
      await action.run(() =>
        client.request<Tenant>('PATCH', `/tenants/${tenant.id}`, {
          plan_id: planId || null,
        }),
      )
    )
      reload();
  };
  const setStatus = async (verb: 'suspend' | 'reactivate') => {
    if (
      await action.run(() =>
        client.request<Tenant>('POST', `/tenants/${tenant.id}/${verb}`),
      )
    )
      reload();
  };

  return (
    <>
      <p className="hint">
        <a href={href.tenants}>Tenants</a> › {tenant.name}
      </p>
      <div className="toolbar">
        <h1 style={{ margin: 0 }}>{tenant.name}</h1>
        <span
          className={`badge ${tenant.status === 'active' ? 'ok' : 'bad'}`}
          data-testid="tenant-status"
        >
          {tenant.status}
        </span>
      </div>
      <p className="hint">
        Id <code>{tenant.id}</code> · created {formatTime(tenant.created_at)} ·
        plan{' '}
        {currentPlan
          ? currentPlan.name
          : tenant.plan_id
            ? tenant.plan_id.slice(0, 8)
            : 'none (default limits)'}
      </p>
      <RequireScope
        anyOf={['admin:write']}
        what="Changing the plan or suspending the tenant"
      >
        <form
          className="inline"
          onSubmit={(e) => e.preventDefault()}
          aria-label="Plan and status"
        >
          <div className="field">
            <label htmlFor="tenant-plan-select">Plan</label>
            <select
              id="tenant-plan-select"
              value={planId}
              onChange={(e) => setPlanId(e.target.value)}
            >
              <option value="">No plan (default limits)</option>
              {(plans.data?.data ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.requests_per_minute} rpm, {p.tokens_per_minute}{' '}
                  tpm)
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            onClick={() => void savePlan()}
            disabled={action.busy || planId === (tenant.plan_id ?? '')}
          >
            Save plan
          </button>
          {tenant.status === 'active' ? (
            <button
              type="button"
              className="danger"
              onClick={() => void setStatus('suspend')}
              disabled={action.busy}
            >
              Suspend tenant
            </button>
          ) : (
            <button
              type="button"
              onClick={() => void setStatus('reactivate')}
              disabled={action.busy}
            >
              Reactivate tenant
            </button>
          )}
        </form>
      </RequireScope>
      {tenant.status === 'suspended' && (
        <p className="scope-notice">
          Suspended: every key of this tenant is refused with 401 until it is
          reactivated.
        </p>
      )}
      {action.error && (
        <p className="error" role="alert">
          {action.error}
        </p>
      )}
    </>
  );
}

export function TenantPage({ id }: { id: string }) {
  const tenant = useResource(
    (c) => c.request<Tenant>('GET', `/tenants/${id}`),
    [id],
  );
  return (
    <section>
      <RequireScope anyOf={['admin:read']} what="A tenant's page">
        <DataState resource={tenant} what="the tenant">
          {(t) => (
            <>
              <TenantHeader
                key={`${t.id}-${t.plan_id ?? ''}`}
                tenant={t}
                reload={tenant.reload}
              />
              <CreditsPanel tenantId={t.id} />
              <KeysPanel tenantId={t.id} />
              <h2>Usage</h2>
              <UsageView tenantId={t.id} />
              <h2>Invoices</h2>
              <RequireScope anyOf={['billing']} what="Invoices">
                <InvoicesPanel tenantId={t.id} label={t.name} />
              </RequireScope>
            </>
          )}
        </DataState>
      </RequireScope>
    </section>
  );
}
