import type { Redis } from 'ioredis';
import { z } from 'zod';
import { WORKER_INDEX_KEY, workerPresenceKey } from './queue-names';

/**
 * What a live worker writes under its {@link workerPresenceKey}, refreshed on a timer with a
 * TTL so the key disappears when the worker stops.
 */
export const workerPresenceSchema = z.object({
  workerId: z.string(),
  /** Model names whose queues it consumes. */
  models: z.array(z.string()),
  executionProvider: z.string(),
  /** Unix ms. */
  startedAt: z.number(),
  /** Models this worker was asked to load (admin API) and could not, with the reason. */
  modelErrors: z.record(z.string(), z.string()).optional(),
  /** When this was written (Unix ms): the worker's last heartbeat. */
  heartbeatAt: z.number().optional(),
  /** How busy it was then. */
  load: z
    .object({
      /** Requests it was running. */
      running: z.number(),
      /** Requests it runs at once, every model together (the batch slots). */
      slots: z.number(),
      /** The worker process's resident memory, bytes. */
      rssBytes: z.number(),
      /** GPU memory in use and in all, bytes (CUDA workers; null elsewhere). */
      gpuMemoryUsedBytes: z.number().nullable(),
      gpuMemoryTotalBytes: z.number().nullable(),
    })
    .optional(),
});

export type WorkerPresence = z.infer<typeof workerPresenceSchema>;

/** Seconds a presence key lives without a refresh. */
export const WORKER_PRESENCE_TTL_S = 8;

/**
 * Announces a worker, or refreshes it: its presence key, living `ttlS` seconds unless written
 * again, and its entry in the workers' index (where gateways look, see {@link WORKER_INDEX_KEY}).
 */
export async function writeWorkerPresence(
  redis: Redis,
  presence: WorkerPresence,
  ttlS = WORKER_PRESENCE_TTL_S,
): Promise<void> {
  await redis
    .multi()
    .set(
      workerPresenceKey(presence.workerId),
      JSON.stringify(presence),
      'EX',
      ttlS,
    )
    .zadd(WORKER_INDEX_KEY, Date.now() + ttlS * 1000, presence.workerId)
    .exec();
}

/** A worker's goodbye: its presence key and index entry go at once. */
export async function removeWorkerPresence(
  redis: Redis,
  workerId: string,
): Promise<void> {
  await redis
    .multi()
    .del(workerPresenceKey(workerId))
    .zrem(WORKER_INDEX_KEY, workerId)
    .exec();
}
