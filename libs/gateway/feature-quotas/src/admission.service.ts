import {
  Injectable,
  Logger,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { type LuaCommand, luaCommand } from '@marquee/contracts/queue';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import { ApiError } from '@marquee/gateway/util-http';
import {
  type AdmissionRefusalReason,
  GatewayMetrics,
} from '@marquee/shared/util-observability';
import {
  ADMIT_SCRIPT,
  PEEK_SCRIPT,
  RENEW_SCRIPT,
  SETTLE_SCRIPT,
} from './admission.lua';
import {
  BudgetSource,
  budgetLapsedKey,
  budgetLeasesKey,
  budgetReservationsKey,
} from './budget-source';
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
  /** That counter's UTC month, `YYYY-MM`: jobs carry it to their usage entries. */
  budgetMonth: string;
}

/**
 * Concurrency slots and budget reservations are leases, renewed every {@link RENEW_MS} while
 * their request lives on this gateway: a gateway that dies mid-request frees them within this.
 */
export const LEASE_MS = 20_000;
const RENEW_MS = 5_000;

/** What a request's admission is settled with when it ends. */
export type AdmissionEnd =
  /** Nothing ran or will be billed: the slot and the whole reservation go back. */
  | { action: 'release' }
  /** The job's usage is charged later by the settler: the slot frees, tokens become `tokens`. */
  | { action: 'keep'; tokens: number }
  /** Charged now: the slot frees, and the reservation becomes the actual cost. */
  | { action: 'charge'; tokens: number; costMicros: bigint };

/** The scope of a request's admission, as a settler knows it from the usage ledger. */
export interface AdmissionScope {
  requestId: string;
  tenantId: string;
  apiKeyId: string;
  /** UTC month (`YYYY-MM`) of the budget the cost was reserved from. */
  budgetMonth: string;
}

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
export class AdmissionService implements OnModuleDestroy {
  private readonly logger = new Logger(AdmissionService.name);
  /** Admissions of requests this gateway holds: their leases are renewed until they end. */
  private readonly held = new Map<string, Admission>();
  private renewer: NodeJS.Timeout | null = null;
  /** The scripts every request runs (admit and settle, and peek for its headers), by their SHA. */
  private readonly admitScript: LuaCommand;
  private readonly settleScript: LuaCommand;
  private readonly peekScript: LuaCommand;

  constructor(
    private readonly redis: RedisConnection,
    private readonly budgets: BudgetSource,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {
    this.admitScript = luaCommand(redis.client, 'mqAdmit', ADMIT_SCRIPT, 12);
    this.settleScript = luaCommand(redis.client, 'mqSettle', SETTLE_SCRIPT, 12);
    this.peekScript = luaCommand(redis.client, 'mqPeek', PEEK_SCRIPT, 6);
  }

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
    if (admitted === 1) {
      const admission = {
        ticket,
        headers,
        budgetKey,
        budgetMonth: now.toISOString().slice(0, 7),
      };
      this.hold(admission);
      return admission;
    }
    this.metrics?.recordAdmissionRefusal(REFUSAL_METRIC[reason] ?? reason);
    throw refusal(reason, retryAfterMs, headers, ticket);
  }

  /**
   * Charges what was really used: the slot frees, the token reservation becomes `actualTokens`
   * and unused budget returns. Safe to call twice.
   */
  settle(
    admission: Admission,
    actualTokens: number,
    actualCostMicros: bigint,
  ): Promise<void> {
    return this.end(admission, {
      action: 'charge',
      tokens: actualTokens,
      costMicros: actualCostMicros,
    });
  }

  /** Ends a request this gateway admitted (see {@link AdmissionEnd}); its leases stop. Safe to repeat. */
  async end(admission: Admission, end: AdmissionEnd): Promise<void> {
    this.held.delete(admission.ticket.requestId);
    const { ticket } = admission;
    await this.runSettle(ticket, admission.budgetKey, {
      tokens: end.action === 'release' ? null : end.tokens,
      action: end.action,
      refund: end.action === 'charge' ? ticket.costMicros - end.costMicros : 0n,
      cost: end.action === 'charge' ? end.costMicros : 0n,
    });
  }

  /**
   * Charges a request's usage from the ledger (the settler, on any replica, after PostgreSQL has
   * the charge): the reservation becomes the actual cost, or, if it lapsed and was given back,
   * the cost is taken from the budget counter. Charges once, however often it is called.
   */
  async charge(
    scope: AdmissionScope,
    actualTokens: number,
    actualCostMicros: bigint,
  ): Promise<void> {
    const budgetKey = this.budgets.keyOfMonth(
      scope.tenantId,
      scope.budgetMonth,
    );
    const reserved = await this.redis.client.hget(
      budgetReservationsKey(budgetKey),
      scope.requestId,
    );
    await this.runSettle(scope, budgetKey, {
      tokens: actualTokens,
      action: 'charge',
      // Only applied while that reservation is still there, so a stale read is harmless.
      refund: reserved === null ? 0n : BigInt(reserved) - actualCostMicros,
      cost: actualCostMicros,
    });
  }

  /** Gives a request's slot and whole reservation back (nothing of it ran), from any replica. */
  async release(scope: AdmissionScope): Promise<void> {
    await this.runSettle(
      scope,
      this.budgets.keyOfMonth(scope.tenantId, scope.budgetMonth),
      { tokens: null, action: 'release', refund: 0n, cost: 0n },
    );
  }

  /** One run of {@link SETTLE_SCRIPT}; `tokens` null leaves the token windows alone. */
  private async runSettle(
    scope: Pick<AdmissionTicket, 'requestId' | 'tenantId' | 'apiKeyId'>,
    budgetKey: string,
    settle: {
      tokens: number | null;
      action: AdmissionEnd['action'];
      refund: bigint;
      cost: bigint;
    },
  ): Promise<void> {
    await this.settleScript(
      ...this.keys(scope, budgetKey),
      scope.requestId,
      settle.tokens === null ? '' : String(settle.tokens),
      settle.action,
      // Exact in BigInt: Lua numbers lose precision (and print as 1e+17) on large amounts.
      settle.refund.toString(),
      settle.cost.toString(),
    );
  }

  /** Requests whose leases this gateway renews now. */
  get heldCount(): number {
    return this.held.size;
  }

  onModuleDestroy(): void {
    if (this.renewer) clearInterval(this.renewer);
    this.renewer = null;
  }

  private hold(admission: Admission): void {
    this.held.set(admission.ticket.requestId, admission);
    if (this.renewer) return;
    this.renewer = setInterval(() => void this.renew(), RENEW_MS);
    this.renewer.unref();
  }

  /** One pipeline renewing every held request's leases. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const pipeline = this.redis.client.pipeline();
    for (const { ticket, budgetKey } of this.held.values()) {
      const keys = this.keys(ticket, budgetKey);
      pipeline.eval(
        RENEW_SCRIPT,
        3,
        keys[3],
        keys[7],
        keys[11],
        ticket.requestId,
        String(LEASE_MS),
      );
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.logger.warn(
        { held: this.held.size, err: String(error) },
        'lease renewal failed; retrying',
      );
    }
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
      (await this.peekScript(
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
    return (await this.admitScript(
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
      budgetLapsedKey(budgetKey),
      budgetLeasesKey(budgetKey),
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
