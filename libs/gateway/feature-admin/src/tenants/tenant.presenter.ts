import type { Tenant } from '@marquee/gateway/data-access-db';
import { iso } from '../http/present';

export const presentTenant = (t: Tenant) => ({
  id: t.id,
  object: 'tenant' as const,
  name: t.name,
  status: t.status,
  plan_id: t.planId,
  created_at: iso(t.createdAt),
  updated_at: iso(t.updatedAt),
});
