import { Injectable, Logger } from '@nestjs/common';
import {
  BillingRepository,
  type Model,
  ModelRepository,
} from '@marquee/gateway/data-access-db';
import {
  type Admission,
  AdmissionService,
} from '@marquee/gateway/feature-quotas';
import type { RequestEvent } from '@marquee/gateway/transport-grpc';
import { costMicros } from '@marquee/gateway/util-billing';
import { ApiError, type Principal } from '@marquee/gateway/util-http';

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

/** What a request used, as the worker counted it. */
export interface MeasuredUsage {
  promptTokens: number;
  completionTokens: number;
  finishReason: string;
}

/** Who asked, for what, and under which admission: everything settlement needs. */
export interface AccountedRequest {
  requestId: string;
  principal: Principal;
  endpoint: string;
  model: Model;
  admission: Admission;
}

/**
 * The gateway's books for one request, shared by every endpoint: which models a key may see,
 * and settlement — the usage row and charge in one transaction, then the admission released
 * with the actual numbers.
 */
@Injectable()
export class RequestAccounting {
  private readonly logger = new Logger(RequestAccounting.name);

  constructor(
    private readonly models: ModelRepository,
    private readonly billing: BillingRepository,
    private readonly admission: AdmissionService,
  ) {}

  /** The model named `name` for `task`, if this key may use it; 404 otherwise (never revealing other tenants' models). */
  async visibleModel(
    name: string,
    task: Model['task'],
    principal: Principal,
  ): Promise<Model> {
    const model = await this.models.findByName(name).catch(() => {
      throw ApiError.unavailable(
        'The database is unavailable; try again shortly.',
        'database_unavailable',
      );
    });
    const { tenantId, allowedModels } = principal;
    const visible =
      model &&
      model.task === task &&
      (model.tenantId === null || model.tenantId === tenantId) &&
      (allowedModels.length === 0 || allowedModels.includes(model.name));
    if (!visible) throw ApiError.modelNotFound(name);
    return model;
  }

  /**
   * Bills `usage` (null: nothing ran, nothing to bill) and releases the admission. Failures are
   * logged with the request id for reconciliation; the client's response still goes out.
   */
  async settle(
    request: AccountedRequest,
    usage: MeasuredUsage | null,
  ): Promise<void> {
    const promptTokens = usage?.promptTokens ?? 0;
    const completionTokens = usage?.completionTokens ?? 0;
    const cost = costMicros({
      promptTokens,
      completionTokens,
      ...prices(request.model),
    });
    try {
      if (usage) {
        await this.billing.settle({
          requestId: request.requestId,
          tenantId: request.principal.tenantId,
          apiKeyId: request.principal.apiKeyId,
          modelId: request.model.id,
          endpoint: request.endpoint,
          promptTokens,
          completionTokens,
          finishReason: usage.finishReason,
          costMicros: cost,
        });
      }
    } catch (error) {
      this.logger.error(
        {
          requestId: request.requestId,
          err: String(error),
          promptTokens,
          completionTokens,
          costMicros: cost.toString(),
        },
        'billing failed',
      );
    }
    // Whatever became of the ledger, the request's slot and unused reservation come back.
    try {
      await this.admission.settle(
        request.admission,
        promptTokens + completionTokens,
        cost,
      );
    } catch (error) {
      this.logger.error(
        { requestId: request.requestId, err: String(error) },
        'settlement failed',
      );
    }
  }
}
