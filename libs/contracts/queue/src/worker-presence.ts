import { z } from 'zod';

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
});

export type WorkerPresence = z.infer<typeof workerPresenceSchema>;

/** Seconds a presence key lives without a refresh. */
export const WORKER_PRESENCE_TTL_S = 8;
