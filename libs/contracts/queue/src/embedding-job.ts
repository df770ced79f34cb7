import { z } from 'zod';
import { jobBillingSchema } from './usage-ledger';

/** One input to embed: text, or token ids the client tokenized itself. */
export const embeddingInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string() }),
  z.object({
    kind: z.literal('tokens'),
    ids: z.array(z.number().int().nonnegative()).min(1),
  }),
]);

/**
 * The payload of an embedding job on its tenant's {@link tenantQueueName} queue for the model
 * (a model is either a generator or an encoder, so one queue never mixes the two kinds).
 * Job id = `requestId`.
 * The worker answers with one `finished` event whose `embeddings` hold one vector per input.
 */
export const embeddingJobSchema = z.object({
  kind: z.literal('embedding'),
  requestId: z.string().min(1),
  tenantId: z.string(),
  apiKeyId: z.string(),
  /** Public model name (the queue's model). */
  model: z.string(),
  /** Up to 2048 inputs, embedded in order; vector `i` belongs to input `i`. */
  inputs: z.array(embeddingInputSchema).min(1).max(2048),
  /** Requested vector length; the worker refuses (param `dimensions`) any but the model's own. */
  dimensions: z.number().int().positive().optional(),
  /** The gateway replica holding the client's connection: where the worker reports. */
  replyTo: z.object({ gatewayId: z.string(), address: z.string() }),
  /** Unix ms when the gateway enqueued the job. */
  enqueuedAt: z.number(),
  /**
   * Where the worker's usage entry bills the job (absent in jobs of older gateways: the worker
   * then records nothing and that gateway bills as before).
   */
  billing: jobBillingSchema.optional(),
});

export type EmbeddingInputPayload = z.infer<typeof embeddingInputSchema>;
export type EmbeddingJob = z.infer<typeof embeddingJobSchema>;
