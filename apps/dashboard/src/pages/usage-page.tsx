import { RequireScope } from '../ui/data-state';
import { UsageView } from '../ui/usage-view';

export function UsagePage() {
  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <p className="hint">
        From the usage ledger: one row per finished request, billed at the
        prices of its settlement.
      </p>
      <RequireScope anyOf={['admin:read', 'billing']} what="Usage">
        <UsageView />
      </RequireScope>
    </section>
  );
}
