import { Injectable, Logger } from '@nestjs/common';
import {
  type JobBilling,
  type UsageEntryPayload,
  appendUsageRetrying,
  usageStreamKey,
} from '@marquee/contracts/queue';
import { type Model, ModelRepository } from '@marquee/gateway/data-access-db';
import { RedisConnection } from '@marquee/gateway/data-access-queue';
import {
  type Admission,
  AdmissionService,
} from '@marquee/gateway/feature-quotas';
import type {
  RequestEvent,
  TerminalEvent,
} from '@marquee/gateway/transport-grpc';
import { PrincipalCache } from '@marquee/gateway/feature-auth';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';

export type FailedEvent = Extract<RequestEvent, { type: 'failed' }>;

/** A request's failure as the gateway itself decides it (queue, timeout, client gone). */
export function failure(code: string, message: string): FailedEvent {
  return {
    type: 'failed',
    code,
    message,
    param: null,
    promptTokens: 0,
    completionTokens: 0,
  };
}

/** A model's prices, in the shape `costMicros` takes. */
export function prices(model: Model) {
  return {
    inputPricePerMTokMicros: model.inputPricePerMTokMicros,
    outputPricePerMTokMicros: model.outputPricePerMTokMicros,
  };
}

/** What a request used, as counted by the worker or, for a lost worker, relayed by the gateway. */
export interface MeasuredUsage {
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
}

/** Who asked, for what, and under which admission: everything settlement needs. */
export interface AccountedRequest {
  requestId: string;
  principal: Principal;
  endpoint: UsageEntryPayload['endpoint'];
  model: Model;
  admission: Admission;
}

/** How a request ended, for its books. */
export type RequestEnd =
  /** Nothing ran (no worker took it, refused before it started, cancelled while queued). */
  | { kind: 'not_run' }
  /** A worker ran it and recorded its usage in the ledger before reporting its end. */
  | { kind: 'recorded'; tokens: number }
  /** The worker was lost mid-way: what this gateway relayed to the client is what is billed. */
  | { kind: 'relayed'; usage: MeasuredUsage };

/** What this gateway relayed of a request to its client. */
export interface Relayed {
  promptTokens: number;
  completionTokens: number;
}

/**
 * How a request that ended with `event` is booked. A worker records the usage of every job it
 * started before it reports the end, so only a lost worker's request is billed from what this
 * gateway relayed (and not at all when nothing reached the client).
 */
export function requestEnd(
  event: TerminalEvent,
  started: boolean,
  relayed: Relayed,
): RequestEnd {
  if (!started) return { kind: 'not_run' };
  if (event.type === 'failed' && event.code === 'worker_lost') {
    return relayed.completionTokens > 0
      ? { kind: 'relayed', usage: { ...relayed, finishReason: event.code } }
      : { kind: 'not_run' };
  }
  return {
    kind: 'recorded',
    tokens: event.promptTokens + event.completionTokens,
  };
}

/** Models are read again after this long at most, ms (admin changes flush them at once). */
const MODEL_TTL_MS = 5_000;

/** How long a gateway keeps trying to append an entry while Redis is unreachable. */
const APPEND_RETRY_FOR_MS = 10 * 60_000;

/**
 * The gateway's books for one request, shared by every endpoint: which models a key may see,
 * and what becomes of a request's admission and usage when it ends. Usage belongs to the job:
 * the worker records it in the usage ledger (a Redis stream) before acknowledging the job, and
 * the {@link UsageSettler} writes it to PostgreSQL; the response never waits for PostgreSQL.
 */
@Injectable()
export class RequestAccounting {
  private readonly logger = new Logger(RequestAccounting.name);

  /** This system of record's usage stream. */
  readonly ledger: string;
  /** Models by name (null: none), so the hot path costs no database round trip. */
  private readonly modelCache = new Map<
    string,
    { model: Model | null; expiresAt: number }
  >();

  constructor(
    private readonly models: ModelRepository,
    private readonly admission: AdmissionService,
    private readonly redis: RedisConnection,
    private readonly metrics: GatewayMetrics,
    config: GatewayConfig,
    principals: PrincipalCache,
  ) {
    this.ledger = usageStreamKey(config.databaseUrl);
    // Admin changes (a model registered, hidden, repriced) flush it on every replica at once.
    principals.onChange(() => this.modelCache.clear());
  }

  /** The model named `name` for `task`, if this key may use it; 404 otherwise (never revealing other tenants' models). */
  async visibleModel(
    name: string,
    task: Model['task'],
    principal: Principal,
  ): Promise<Model> {
    const model = await this.model(name);
    const { tenantId, allowedModels } = principal;
    const visible =
      model &&
      model.task === task &&
      (model.tenantId === null || model.tenantId === tenantId) &&
      (allowedModels.length === 0 || allowedModels.includes(model.name));
    if (!visible) throw ApiError.modelNotFound(name);
    return model;
  }

  /** A model by name, cached as keys are (see {@link PrincipalCache}). */
  private async model(name: string): Promise<Model | null> {
    const now = Date.now();
    const cached = this.modelCache.get(name);
    if (cached && cached.expiresAt > now) return cached.model;
    const model = await this.models
      .findByName(name)
      .catch(
        this.metrics.failures.replace(
          'model.read',
          () =>
            ApiError.unavailable(
              'The database is unavailable; try again shortly.',
              'database_unavailable',
            ),
          { model: name },
        ),
      );
    if (this.modelCache.size > 10_000) this.modelCache.clear();
    this.modelCache.set(name, { model, expiresAt: now + MODEL_TTL_MS });
    return model;
  }

  /** Where a job's usage entry bills it: carried in the job payload. */
  billingOf(model: Model, admission: Admission): JobBilling {
    return {
      ledger: this.ledger,
      modelId: model.id,
      budgetMonth: admission.budgetMonth,
    };
  }

  /**
   * Ends a request's admission as its end says: the slot frees at once, the budget reservation
   * goes back (nothing ran) or waits for the settler to charge the ledger's entry. For a lost
   * worker, this gateway appends what it relayed to the ledger. Never throws: failures are
   * logged with the request id, and leases expire on their own.
   */
  async ended(request: AccountedRequest, end: RequestEnd): Promise<void> {
    const { admission } = request;
    try {
      switch (end.kind) {
        case 'not_run':
          await this.admission.end(admission, { action: 'release' });
          return;
        case 'recorded':
          await this.admission.end(admission, {
            action: 'keep',
            tokens: end.tokens,
          });
          return;
        case 'relayed':
          this.appendRelayed(request, end.usage);
          await this.admission.end(admission, {
            action: 'keep',
            tokens: end.usage.promptTokens + end.usage.completionTokens,
          });
          return;
      }
    } catch (error) {
      this.logger.error(
        { requestId: request.requestId, end: end.kind, err: String(error) },
        'admission release failed; its lease will lapse',
      );
    }
  }

  /** Appends this gateway's count of a lost worker's request, retrying while Redis is down. */
  private appendRelayed(request: AccountedRequest, usage: MeasuredUsage): void {
    const entry: UsageEntryPayload = {
      requestId: request.requestId,
      tenantId: request.principal.tenantId,
      apiKeyId: request.principal.apiKeyId,
      endpoint: request.endpoint,
      ran: true,
      ...usage,
      modelId: request.model.id,
      budgetMonth: request.admission.budgetMonth,
      source: 'gateway',
      at: Date.now(),
    };
    void appendUsageRetrying(this.redis.client, this.ledger, entry, {
      retryForMs: APPEND_RETRY_FOR_MS,
      firstDelayMs: 250,
      maxDelayMs: 5_000,
      onRetry: (error) =>
        this.logger.warn(
          { requestId: entry.requestId, err: String(error) },
          'recording relayed usage failed; retrying',
        ),
    }).then((error) => {
      if (error !== null)
        this.logger.error(
          { requestId: entry.requestId, usage, err: String(error) },
          'usage of a lost worker could not be recorded',
        );
    });
  }
}
