import type { Redis } from 'ioredis';
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

/**
 * Set of the tenants that may have jobs queued for the model: the gateway adds the tenant after
 * each job; a worker removes it only when its queue is found empty, atomically with that check
 * (see {@link DROP_IF_EMPTY_SCRIPT}). Workers sweep these tenants, not every tenant that ever
 * queued, so a model's cost per job does not grow with its tenant count.
 */
export function fairReadyKey(model: string): string {
  return `${QUEUE_PREFIX}:fair:${inferenceQueueName(model)}:ready`;
}

/**
 * BullMQ's keys of a tenant queue's jobs not yet taken: `wait` and `paused` (lists),
 * `prioritized` and `delayed` (sorted sets).
 */
export function tenantWaitKeys(model: string, tenantId: string): string[] {
  const base = `${QUEUE_PREFIX}:${tenantQueueName(model, tenantId)}`;
  return [
    `${base}:wait`,
    `${base}:paused`,
    `${base}:prioritized`,
    `${base}:delayed`,
  ];
}

const ANY_WAITING = `(redis.call('LLEN', KEYS[2]) + redis.call('LLEN', KEYS[3])
  + redis.call('ZCARD', KEYS[4]) + redis.call('ZCARD', KEYS[5])) > 0`;

/**
 * KEYS: ready set, then {@link tenantWaitKeys}; ARGV: tenant id. Removes the tenant from the
 * ready set only if none of its jobs waits, in one step, so a job enqueued meanwhile is never
 * left behind. Returns 1 when removed.
 */
export const DROP_IF_EMPTY_SCRIPT = `
if not (${ANY_WAITING}) then
  return redis.call('SREM', KEYS[1], ARGV[1])
end
return 0`;

/** The twin of {@link DROP_IF_EMPTY_SCRIPT}: marks the tenant ready if a job waits. 1 when added. */
export const MARK_IF_WAITING_SCRIPT = `
if ${ANY_WAITING} then
  return redis.call('SADD', KEYS[1], ARGV[1])
end
return 0`;

/** List the gateway pushes to on every enqueue, so idle workers wake at once. */
export function fairBellKey(model: string): string {
  return `${QUEUE_PREFIX}:fair:${inferenceQueueName(model)}:bell`;
}

/** Every fair-sharing key of a model (for tools and tests that clean up after themselves). */
export function fairKeys(model: string): string[] {
  return [fairTenantsKey(model), fairBellKey(model), fairReadyKey(model)];
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

/** Bell entries kept at most: a wake-up signal, not a work list. */
const BELL_LENGTH = 64;

/**
 * What a producer does after adding a job to a tenant's queue (in one MULTI): registers the
 * tenant's share, marks the tenant ready and rings the model's bell. The gateway does this on
 * every enqueue; tests and benchmarks that play the gateway call it too.
 */
export async function announceQueuedJob(
  redis: Redis,
  model: string,
  tenantId: string,
  share: TenantShare,
): Promise<void> {
  await redis
    .multi()
    .hset(fairTenantsKey(model), tenantId, encodeTenantShare(share))
    .sadd(fairReadyKey(model), tenantId)
    // The ring names the tenant: a worker that knows it needs no re-read to look there.
    .lpush(fairBellKey(model), tenantId)
    .ltrim(fairBellKey(model), 0, BELL_LENGTH - 1)
    .exec();
}
