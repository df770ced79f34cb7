import { QUEUE_PREFIX, inferenceQueueName } from './queue-names';

/**
 * Fair sharing of a model's workers between tenants. Each tenant gets its own BullMQ queue per
 * model; the gateway registers the tenant's tier and weight and rings the model's bell on every
 * enqueue; workers pick the next tenant by strict tier, then weighted deficit round-robin, so one
 * tenant's flood cannot starve the others.
 */

const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A tenant's queue for one model. */
export function tenantQueueName(model: string, tenantId: string): string {
  if (!TENANT_ID_PATTERN.test(tenantId))
    throw new Error(`invalid tenant id: ${tenantId}`);
  return `${inferenceQueueName(model)}.t.${tenantId}`;
}

/** Hash: tenant id -> {@link encodeTenantShare} of every tenant that has queued for the model. */
export function fairTenantsKey(model: string): string {
  return `${QUEUE_PREFIX}:fair:${inferenceQueueName(model)}:tenants`;
}

/** List the gateway pushes to on every enqueue, so idle workers wake at once. */
export function fairBellKey(model: string): string {
  return `${QUEUE_PREFIX}:fair:${inferenceQueueName(model)}:bell`;
}

/** How a tenant shares a saturated pool: strict by tier (0 first), then by weight within a tier. */
export interface TenantShare {
  tier: number;
  weight: number;
}

export function encodeTenantShare(share: TenantShare): string {
  return `${share.tier}:${share.weight}`;
}

export function decodeTenantShare(value: string): TenantShare {
  const [tier, weight] = value.split(':').map(Number);
  return {
    tier: Number.isInteger(tier) && tier >= 0 ? tier : 5,
    weight: Number.isInteger(weight) && weight >= 1 ? weight : 1,
  };
}
