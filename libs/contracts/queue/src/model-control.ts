import { z } from 'zod';
import { QUEUE_PREFIX } from './queue-names';

/**
 * Loading and unloading models on running workers. The gateway's admin API publishes a
 * {@link ModelControlMessage} on {@link MODEL_CONTROL_CHANNEL} and stores the latest one per
 * model under {@link MODEL_DESIRED_STATE_KEY}; live workers act on the message, and a worker
 * that starts later replays the stored ones after its boot-time scan of `MODELS_DIR`.
 */

/** Redis pub/sub channel of {@link ModelControlMessage}s (JSON). */
export const MODEL_CONTROL_CHANNEL = `${QUEUE_PREFIX}:models:control`;

/** Redis hash: model name -> the latest {@link ModelControlMessage} for it (JSON). */
export const MODEL_DESIRED_STATE_KEY = `${QUEUE_PREFIX}:models:desired`;

const target = {
  /** Public model name (the registry's `name`, equal to `name` in the folder's `marquee.json`). */
  name: z.string().min(1),
  /** Only these workers act on the message; absent: every worker. */
  workerIds: z.array(z.string().min(1)).min(1).optional(),
  /** Unix ms when the admin asked. */
  requestedAt: z.number(),
};

export const modelControlMessageSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('load'),
    ...target,
    task: z.enum(['text_generation', 'embedding']),
    version: z.string(),
    /**
     * The model folder as registered. Relative paths resolve against the worker's working
     * directory; workers refuse folders outside `MODELS_DIR` and `MODEL_ROOTS`.
     */
    artifactPath: z.string().min(1),
  }),
  z.object({ action: z.literal('unload'), ...target }),
]);

export type ModelControlMessage = z.infer<typeof modelControlMessageSchema>;

/** Parses a message from the channel or the hash; null when it is not one. */
export function decodeModelControlMessage(
  raw: string,
): ModelControlMessage | null {
  try {
    const parsed = modelControlMessageSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
