import { z } from 'zod';

/**
 * The usage ledger in flight: a Redis stream of what each job used, written by whoever can prove
 * it (the worker that ran the job, before the job is acknowledged; a gateway, for the tokens it
 * relayed from a worker that was lost), and settled into PostgreSQL by the gateways' settlers in
 * one consumer group, retrying until it succeeds. The unique request id makes a repeat harmless.
 *
 * One stream per system of record (named after its database), so deployments or test stacks
 * sharing a Redis never settle each other's usage; jobs carry the name to their workers.
 */
export function usageStreamKey(databaseUrl: string): string {
  let database = 'default';
  try {
    database =
      decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || database;
  } catch {
    // Not a URL: the default stream.
  }
  return `mq:usage:${database}`;
}

/** The consumer group of the settlers (every gateway replica is one consumer). */
export const USAGE_SETTLERS_GROUP = 'settlers';

/** Where the billing of a job goes: set by the gateway when it admits and enqueues it. */
export const jobBillingSchema = z.object({
  /** The usage stream ({@link usageStreamKey}) the job's usage entry goes to. */
  ledger: z.string().min(1),
  /** The registry id of the model (prices are read from it at settlement). */
  modelId: z.string(),
  /** UTC month (`YYYY-MM`) whose budget counter admission reserved the cost from. */
  budgetMonth: z.string().regex(/^\d{4}-\d{2}$/),
});
export type JobBilling = z.infer<typeof jobBillingSchema>;

/** One entry of {@link USAGE_STREAM}: what a request used, to bill exactly once. */
export const usageEntrySchema = z.object({
  requestId: z.string().min(1),
  tenantId: z.string(),
  apiKeyId: z.string(),
  modelId: z.string(),
  endpoint: z.enum([
    'completions',
    'chat.completions',
    'responses',
    'embeddings',
  ]),
  /** False: nothing ran (a job dropped because its requester is gone); only the admission is released. */
  ran: z.boolean(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  finishReason: z.string(),
  budgetMonth: z.string().regex(/^\d{4}-\d{2}$/),
  /**
   * `worker`: the worker's own count of what it ran (the truth). `gateway`: what a gateway relayed
   * from a worker it lost; settled only after a grace, so the worker's own entry, if it comes,
   * wins (it is never smaller).
   */
  source: z.enum(['worker', 'gateway']),
  /** Unix ms when the usage happened (the ledger row's time). */
  at: z.number(),
});
export type UsageEntryPayload = z.infer<typeof usageEntrySchema>;

/** The minimal Redis surface the ledger writers need (ioredis fits). */
export interface UsageStreamWriter {
  xadd(key: string, ...args: string[]): Promise<string | null>;
}

/** Appends an entry to a ledger stream (validated first); resolves once Redis has it. */
export async function appendUsage(
  redis: UsageStreamWriter,
  ledger: string,
  entry: UsageEntryPayload,
): Promise<void> {
  const valid = usageEntrySchema.parse(entry);
  await redis.xadd(ledger, '*', 'entry', JSON.stringify(valid));
}

/** How {@link appendUsageRetrying} keeps trying while Redis is unreachable. */
export interface AppendRetry {
  /** Gives up after this long, ms. */
  retryForMs: number;
  /** First wait between attempts, doubled each time up to `maxDelayMs`, ms. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Told of each failed attempt that will be retried. */
  onRetry?: (error: unknown) => void;
}

/**
 * Appends an entry, retrying with backoff while Redis is unreachable. Resolves with null once
 * Redis has it, or with the last error when it gave up: the caller logs what was lost.
 */
export async function appendUsageRetrying(
  redis: UsageStreamWriter,
  ledger: string,
  entry: UsageEntryPayload,
  retry: AppendRetry,
): Promise<unknown> {
  const giveUpAt = Date.now() + retry.retryForMs;
  for (let delay = retry.firstDelayMs; ; ) {
    try {
      await appendUsage(redis, ledger, entry);
      return null;
    } catch (error) {
      if (Date.now() > giveUpAt) return error;
      retry.onRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, retry.maxDelayMs);
    }
  }
}

/** The UTC month of a Unix ms time, as budget counters name it. */
export function budgetMonthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/**
 * Key a live gateway replica refreshes (expiring after {@link GATEWAY_ALIVE_TTL_S}): a worker
 * drops queued jobs whose requester is gone instead of running them for nobody.
 */
export function gatewayAliveKey(gatewayId: string): string {
  return `mq:gw:${gatewayId}`;
}

/** Seconds a gateway's alive key lives without a refresh. */
export const GATEWAY_ALIVE_TTL_S = 10;

/** How often a live gateway refreshes its alive key (and so how long a worker waits for a sign of life), ms. */
export const GATEWAY_ALIVE_REFRESH_MS = 1_000;

/**
 * Set (NX) by the worker that starts a job: a job a lost worker had started comes back from
 * BullMQ's stalled check, and must not run twice (its client was already told `worker_lost`).
 */
export function jobRunKey(requestId: string): string {
  return `mq:run:${requestId}`;
}

/**
 * Seconds a {@link jobRunKey} is kept when its worker dies holding it (a worker that ends the job
 * deletes it): far longer than BullMQ takes to bring a lost worker's job back.
 */
export const JOB_RUN_KEY_TTL_S = 3600;
