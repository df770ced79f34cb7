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

/**
 * Index of the workers that announced themselves: a sorted set of worker ids scored by when
 * their presence key expires, so finding the live ones is a read of it, not a SCAN of the whole
 * keyspace.
 */
export const WORKER_INDEX_KEY = `${QUEUE_PREFIX}:worker-index`;
