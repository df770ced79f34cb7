import { Injectable, Optional } from '@nestjs/common';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { ApiError } from '@marquee/gateway/util-http';
import {
  type AdmissionRefusalReason,
  GatewayMetrics,
} from '@marquee/shared/util-observability';
import { ADMIT_SCRIPT, PEEK_SCRIPT, SETTLE_SCRIPT } from './admission.lua';
import { BudgetSource, budgetReservationsKey } from './budget-source';
import { type RateLimitSnapshot, rateLimitHeaders } from './rate-limit-headers';

/** A plan's limits, as admission applies them to the tenant, and to the key unless it has its own. */
export interface AdmissionLimits {
  requestsPerMinute: number;
  tokensPerMinute: number;
  maxConcurrentRequests: number;
  /** The key's own limits, when lower than its tenant's plan. */
  keyRequestsPerMinute?: number;
  keyTokensPerMinute?: number;
}

/** The limits of the key's scope: its own, else its tenant's. */
function keyLimits(limits: AdmissionLimits) {
  return {
    requestsPerMinute: Math.min(
      limits.keyRequestsPerMinute ?? limits.requestsPerMinute,
      limits.requestsPerMinute,
    ),
    tokensPerMinute: Math.min(
      limits.keyTokensPerMinute ?? limits.tokensPerMinute,
      limits.tokensPerMinute,
    ),
  };
}

/** What one request asks to reserve. */
export interface AdmissionTicket {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  /** Prompt tokens (an upper bound until the worker counts) plus every choice's max_tokens. */
  tokens: number;
  /** Worst-case cost, micro-units. */
  costMicros: bigint;
  limits: AdmissionLimits;
}

/** A granted admission: settle it exactly once when the request ends. */
export interface Admission {
  ticket: AdmissionTicket;
  headers: Record<string, string>;
  /** The budget counter the cost was reserved from (its month): settlement refunds there. */
  budgetKey: string;
}

/** In-flight slots are leased; a gateway that dies mid-request frees its slots after this. */
const LEASE_MS = 15 * 60_000;

/** Admission's refusal reasons as the refusal counter labels them. */
const REFUSAL_METRIC: Record<string, AdmissionRefusalReason> = {
  requests: 'requests_per_minute',
  tokens: 'tokens_per_minute',
  tokens_too_large: 'tokens_per_minute',
  concurrency: 'concurrency',
  budget: 'budget',
};

type ScriptReply = [number, string, number, number, number, number, number];

/**
 * Admits requests against requests/min, tokens/min, concurrency and budget in one atomic Redis
 * step shared by every gateway replica, and settles them with the worker's counts.
 */
@Injectable()
export class AdmissionService {
  constructor(
    private readonly redis: RedisConnection,
    private readonly budgets: BudgetSource,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  /** Admits or throws a 429 in OpenAI's shape with retry and rate-limit headers. */
  async admit(ticket: AdmissionTicket): Promise<Admission> {
    const now = new Date();
    const budgetKey = this.budgets.key(ticket.tenantId, now);
    let reply = await this.run(ticket, budgetKey);
    if (reply[1] === 'budget_unloaded') {
      await this.budgets.load(ticket.tenantId, now);
      reply = await this.run(ticket, budgetKey);
    }
    const [
      admitted,
      reason,
      retryAfterMs,
      rpmRemaining,
      rpmReset,
      tpmRemaining,
      tpmReset,
    ] = reply;
    const binding = keyLimits(ticket.limits);
    const snapshot: RateLimitSnapshot = {
      limitRequests: binding.requestsPerMinute,
      remainingRequests: rpmRemaining,
      resetRequestsMs: rpmReset,
      limitTokens: binding.tokensPerMinute,
      remainingTokens: tpmRemaining,
      resetTokensMs: tpmReset,
    };
    const headers = rateLimitHeaders(snapshot);
    if (admitted === 1) return { ticket, headers, budgetKey };
    this.metrics?.recordAdmissionRefusal(REFUSAL_METRIC[reason] ?? reason);
    throw refusal(reason, retryAfterMs, headers, ticket);
  }

  /** Releases the reservation, keeping what was really used. Safe to call twice. */
  async settle(
    admission: Admission,
    actualTokens: number,
    actualCostMicros: bigint,
  ): Promise<void> {
    const { ticket } = admission;
    await this.redis.client.eval(
      SETTLE_SCRIPT,
      10,
      ...this.keys(ticket, admission.budgetKey),
      ticket.requestId,
      String(actualTokens),
      // Exact in BigInt: Lua numbers lose precision (and print as 1e+17) on large amounts.
      (ticket.costMicros - actualCostMicros).toString(),
    );
  }

  /** The `x-ratelimit-*` headers of a key right now, admitting nothing. */
  async peek(
    tenantId: string,
    apiKeyId: string,
    limits: AdmissionLimits,
  ): Promise<Record<string, string>> {
    const keys = this.keys({ tenantId, apiKeyId });
    const key = keyLimits(limits);
    const [rpmRemaining, rpmReset, tpmRemaining, tpmReset] =
      (await this.redis.client.eval(
        PEEK_SCRIPT,
        6,
        keys[0],
        keys[1],
        keys[2],
        keys[4],
        keys[5],
        keys[6],
        String(key.requestsPerMinute),
        String(key.tokensPerMinute),
        String(limits.requestsPerMinute),
        String(limits.tokensPerMinute),
      )) as [number, number, number, number];
    return rateLimitHeaders({
      limitRequests: key.requestsPerMinute,
      remainingRequests: rpmRemaining,
      resetRequestsMs: rpmReset,
      limitTokens: key.tokensPerMinute,
      remainingTokens: tpmRemaining,
      resetTokensMs: tpmReset,
    });
  }

  private async run(
    ticket: AdmissionTicket,
    budgetKey: string,
  ): Promise<ScriptReply> {
    const key = keyLimits(ticket.limits);
    return (await this.redis.client.eval(
      ADMIT_SCRIPT,
      10,
      ...this.keys(ticket, budgetKey),
      ticket.requestId,
      String(ticket.tokens),
      ticket.costMicros.toString(),
      String(key.requestsPerMinute),
      String(key.tokensPerMinute),
      String(ticket.limits.maxConcurrentRequests),
      String(LEASE_MS),
      String(ticket.limits.requestsPerMinute),
      String(ticket.limits.tokensPerMinute),
    )) as ScriptReply;
  }

  /** Every key of a tenant shares one Redis Cluster hash slot (the `{...}` tag). */
  private keys(
    ticket: Pick<AdmissionTicket, 'tenantId' | 'apiKeyId'>,
    budgetKey = this.budgets.key(ticket.tenantId),
  ): string[] {
    const tag = `{mq:t:${ticket.tenantId}}`;
    const k = ticket.apiKeyId;
    return [
      `${tag}:rpm:k:${k}`,
      `${tag}:tpm:k:${k}`,
      `${tag}:tpma:k:${k}`,
      `${tag}:conc:k:${k}`,
      `${tag}:rpm:t`,
      `${tag}:tpm:t`,
      `${tag}:tpma:t`,
      `${tag}:conc:t`,
      budgetKey,
      budgetReservationsKey(budgetKey),
    ];
  }
}

function refusal(
  reason: string,
  retryAfterMs: number,
  headers: Record<string, string>,
  ticket: AdmissionTicket,
): ApiError {
  const retry = (ms: number) => ({
    ...headers,
    'retry-after-ms': String(Math.max(1, Math.ceil(ms))),
    'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
  });
  switch (reason) {
    case 'requests':
      return ApiError.rateLimited(
        `Rate limit reached for requests: ${keyLimits(ticket.limits).requestsPerMinute} per minute for this key, ${ticket.limits.requestsPerMinute} for your organization. Try again in ${Math.ceil(retryAfterMs / 1000)}s.`,
        'rate_limit_exceeded',
        retry(retryAfterMs),
      );
    case 'tokens':
      return ApiError.rateLimited(
        `Rate limit reached for tokens: ${keyLimits(ticket.limits).tokensPerMinute} per minute for this key, ${ticket.limits.tokensPerMinute} for your organization; this request reserves ${ticket.tokens}. Try again in ${Math.ceil(retryAfterMs / 1000)}s.`,
        'rate_limit_exceeded',
        retry(retryAfterMs),
      );
    case 'tokens_too_large':
      return ApiError.rateLimited(
        `This request reserves ${ticket.tokens} tokens, more than the ${keyLimits(ticket.limits).tokensPerMinute} tokens per minute this key may use. Lower max_tokens or n.`,
        'rate_limit_exceeded',
        { ...headers, 'x-should-retry': 'false' },
      );
    case 'concurrency':
      return ApiError.rateLimited(
        `Too many concurrent requests: your plan allows ${ticket.limits.maxConcurrentRequests} at a time.`,
        'rate_limit_exceeded',
        retry(retryAfterMs),
      );
    case 'budget':
      return ApiError.rateLimited(
        'You exceeded your current quota: the remaining budget does not cover this request. Top up credits or lower max_tokens.',
        'insufficient_quota',
        { ...headers, 'x-should-retry': 'false' },
      );
    default:
      return ApiError.unavailable(
        'Admission is unavailable; try again shortly.',
        'admission_unavailable',
      );
  }
}
