/**
 * BullMQ key prefix. The braces are a Redis Cluster hash tag: every key of every queue lands in
 * one slot, which BullMQ's multi-key scripts need.
 */
export const QUEUE_PREFIX = '{marquee}';

/** Model names are slugs, so queue names need no escaping. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The queue holding a model's inference jobs (one queue per model). */
export function inferenceQueueName(model: string): string {
  if (!MODEL_NAME_PATTERN.test(model))
    throw new Error(`invalid model name: ${model}`);
  return `infer.${model}`;
}

/** Redis key under which a live worker announces itself (expires unless refreshed). */
export function workerPresenceKey(workerId: string): string {
  return `${QUEUE_PREFIX}:workers:${workerId}`;
}

/** Pattern matching every {@link workerPresenceKey}. */
export const WORKER_PRESENCE_PATTERN = `${QUEUE_PREFIX}:workers:*`;
