import { z } from 'zod';
import { jobBillingSchema } from './usage-ledger';

/** One chat message as the worker sees it (content already flattened to text). */
export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  /** An assistant turn's function calls; `arguments` is the JSON text the client sent. */
  toolCalls: z
    .array(
      z.object({ id: z.string(), name: z.string(), arguments: z.string() }),
    )
    .optional(),
  /** A `tool` message: the id of the call it answers. */
  toolCallId: z.string().optional(),
});

/** A function the chat template offers the model; `parameters` is its arguments' JSON Schema. */
export const chatToolSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()),
});

/** A prompt: text, pre-tokenized ids, or chat messages to render with the model's template. */
export const promptSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string() }),
  z.object({
    kind: z.literal('tokens'),
    ids: z.array(z.number().int().nonnegative()),
  }),
  z.object({
    kind: z.literal('chat'),
    messages: z.array(chatMessageSchema).min(1),
    tools: z.array(chatToolSchema).optional(),
  }),
]);

/**
 * What the output must be, enforced token by token with a grammar: a JSON object, JSON matching a
 * schema, or function calls in the chat template's `<tool_call>` format (`auto`: the model may
 * also answer in text; `required`: at least one call; `parallel`: more than one allowed).
 */
export const outputConstraintSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('json_object') }),
  z.object({
    kind: z.literal('json_schema'),
    schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]),
  }),
  z.object({
    kind: z.literal('tool_calls'),
    mode: z.enum(['auto', 'required']),
    tools: z
      .array(
        z.object({
          name: z.string().min(1),
          parameters: z.record(z.string(), z.unknown()),
        }),
      )
      .min(1),
    parallel: z.boolean(),
  }),
]);

/**
 * Bounds of a request's sampling settings, one source for the gateway's validation (a 400 naming
 * the field) and the job schema the worker reads.
 */
export const SAMPLING_LIMITS = {
  /** Choices per prompt (`n`). */
  choices: 16,
  /** Stop sequences. */
  stopSequences: 4,
  /** Top alternatives reported per token (`top_logprobs`; legacy completions allow 5). */
  topLogprobs: 20,
} as const;

/** Sampling settings, already validated and defaulted by the gateway. */
export const samplingSchema = z.object({
  /** Most tokens to generate per choice; absent means "up to the model's context". */
  maxTokens: z.number().int().positive().optional(),
  /** Choices per prompt. */
  n: z.number().int().min(1).max(SAMPLING_LIMITS.choices),
  /** 0 means greedy. */
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  seed: z.number().int().optional(),
  /** Stop strings; generation ends before any of them. */
  stop: z.array(z.string().min(1)).max(SAMPLING_LIMITS.stopSequences),
  /** Sample from the `topK` most likely tokens only; absent or 0: no limit. */
  topK: z.number().int().nonnegative().optional(),
  /** In [-2, 2]; absent means 0. */
  presencePenalty: z.number().min(-2).max(2).optional(),
  /** In [-2, 2]; absent means 0. */
  frequencyPenalty: z.number().min(-2).max(2).optional(),
  /** Token id (as a decimal string, as JSON keys are) to a bias in [-100, 100]. */
  logitBias: z
    .record(z.string().regex(/^\d+$/), z.number().min(-100).max(100))
    .optional(),
  /** Report each token's log-probability and this many top alternatives; absent: none. */
  logprobs: z.number().int().min(0).max(SAMPLING_LIMITS.topLogprobs).optional(),
  /** Constrain the output to a grammar; absent: free text. */
  constraint: outputConstraintSchema.optional(),
});

/**
 * The payload of a job on a {@link tenantQueueName} queue. Job id = `requestId`.
 * Produced by the gateway, consumed by workers: both validate it with this schema.
 */
export const inferenceJobSchema = z.object({
  /** Also the BullMQ job id and the `x-request-id` the client sees. */
  requestId: z.string().min(1),
  tenantId: z.string(),
  apiKeyId: z.string(),
  /** Public model name (the queue's model). */
  model: z.string(),
  endpoint: z.enum(['completions', 'chat.completions', 'responses']),
  /** One or more prompts; choice indexes run prompt by prompt, `n` per prompt. */
  prompts: z.array(promptSchema).min(1),
  sampling: samplingSchema,
  /** The gateway replica holding the client's connection: where the worker reports. */
  replyTo: z.object({
    gatewayId: z.string(),
    /** host:port of that replica's gRPC server. */
    address: z.string(),
  }),
  /** Unix ms when the gateway enqueued the job. */
  enqueuedAt: z.number(),
  /**
   * Where the worker's usage entry bills the job (absent in jobs of older gateways: the worker
   * then records nothing and that gateway bills as before).
   */
  billing: jobBillingSchema.optional(),
});

export type PromptPayload = z.infer<typeof promptSchema>;
export type OutputConstraint = z.infer<typeof outputConstraintSchema>;
export type ChatTool = z.infer<typeof chatToolSchema>;
export type SamplingPayload = z.infer<typeof samplingSchema>;
export type InferenceJob = z.infer<typeof inferenceJobSchema>;
