import { Injectable, Optional } from '@nestjs/common';
import type { PromptPayload, SamplingPayload } from '@marquee/contracts/queue';
import type { Model } from '@marquee/gateway/data-access-db';
import { InferenceQueue } from '@marquee/gateway/data-access-queue';
import { AdmissionService } from '@marquee/gateway/feature-quotas';
import {
  isTerminal,
  type RequestEvent,
  RequestRegistry,
} from '@marquee/gateway/transport-grpc';
import { costMicros } from '@marquee/gateway/util-billing';
import {
  RequestAccounting,
  prices,
  requestEnd,
} from './request-accounting.service';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { promptTokenBound } from './prompt-bound';
import { StageClock } from './stage-clock';
import { JobDispatch } from './job-dispatch.service';
import { modelForTask } from './task-model';

/** The path of each generation endpoint, for messages. */
const ENDPOINT_PATHS = {
  completions: '/v1/completions',
  'chat.completions': '/v1/chat/completions',
  responses: '/v1/responses',
} as const satisfies Record<InferenceCall['endpoint'], string>;

/** A validated generation request, ready to queue. */
export interface InferenceCall {
  principal: Principal;
  requestId: string;
  endpoint: 'completions' | 'chat.completions' | 'responses';
  model: string;
  prompts: PromptPayload[];
  sampling: SamplingPayload;
  /** `performance.now()` when the HTTP request arrived (the stage breakdown starts there). */
  arrivedAt?: number;
}

/** A queued request: its events as they arrive, and a way to cancel it. */
export interface RunningRequest {
  readonly model: Model;
  /** `x-ratelimit-*` headers of the admission. */
  readonly headers: Record<string, string>;
  /** Events until (and including) the terminal one; usage is settled as that one passes. */
  events(): AsyncGenerator<RequestEvent>;
  /** The client went away: stop the work (billing follows what was generated). */
  cancel(): void;
  /** Its stage breakdown; the writer records the last stage, the response. */
  readonly clock: StageClock;
}

/**
 * Admits, queues and follows generation requests to the end: the bridge between the HTTP
 * controllers, admission, the BullMQ queue, the worker link and billing.
 */
@Injectable()
export class InferenceRunner {
  constructor(
    private readonly queue: InferenceQueue,
    private readonly registry: RequestRegistry,
    private readonly admission: AdmissionService,
    private readonly accounting: RequestAccounting,
    private readonly dispatch: JobDispatch,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  async start(call: InferenceCall): Promise<RunningRequest> {
    const clock = new StageClock(
      this.metrics,
      call.arrivedAt ?? performance.now(),
    );
    clock.lap('auth');
    const model = await this.resolveModel(call);
    await this.dispatch.ensureServed(model.name);
    const admission = await this.admission.admit({
      requestId: call.requestId,
      tenantId: call.principal.tenantId,
      apiKeyId: call.principal.apiKeyId,
      ...this.worstCase(call, model),
      limits: call.principal,
    });

    clock.lap('admission');
    const channel = this.registry.open(call.requestId);
    let started = false;
    let streamed = false;
    const relayed = { promptTokens: 0, completionTokens: 0 };
    const deadline = await this.dispatch.dispatch(
      this.queue,
      {
        requestId: call.requestId,
        tenantId: call.principal.tenantId,
        apiKeyId: call.principal.apiKeyId,
        model: model.name,
        endpoint: call.endpoint,
        prompts: call.prompts,
        sampling: call.sampling,
        billing: this.accounting.billingOf(model, admission),
      },
      call.endpoint,
      call.principal,
      admission,
      () => started,
    );

    clock.lap('enqueue');
    const accounting = this.accounting;
    const dispatch = this.dispatch;
    const request = {
      requestId: call.requestId,
      principal: call.principal,
      endpoint: call.endpoint,
      model,
      admission,
    };
    return {
      model,
      clock,
      headers: admission.headers,
      events: async function* () {
        try {
          for await (const event of channel) {
            if (event.type === 'lost') {
              // Nothing reached the client: another worker takes the job over.
              started = false;
              relayed.promptTokens = 0;
              await dispatch.requeued(call.requestId, deadline);
              continue;
            }
            if (event.type === 'started') {
              started = true;
              relayed.promptTokens = event.promptTokens;
              clock.split('queue_wait', 'worker_pickup', event.pickupMs);
            }
            if (event.type === 'tokens') {
              relayed.completionTokens += event.tokens;
              if (!streamed) clock.lap('first_token');
              streamed = true;
            }
            if (isTerminal(event)) {
              deadline.clear();
              if (started) clock.lap('last_token');
              // The admission's release is on its way to Redis before the answer is written (one
              // connection keeps the order, so this gateway's next admission already sees it), but
              // the answer does not wait for its reply. The usage itself was made durable by the
              // worker before this event, and is billed by the settler.
              const settling = performance.now();
              void accounting
                .ended(request, requestEnd(event, started, relayed))
                .then(() => clock.aside('settlement', settling));
            }
            yield event;
          }
        } finally {
          deadline.clear();
        }
      },
      cancel: () => {
        this.registry.cancel(call.requestId);
        deadline.cancel();
      },
    };
  }

  /**
   * The text-generation model named in a call, if this key may use it: 404 otherwise, 400 for an
   * embedding model (naming `call.endpoint`, when given) or a max_tokens beyond its context.
   */
  async resolveModel(
    call: Pick<InferenceCall, 'model' | 'principal' | 'sampling'> &
      Partial<Pick<InferenceCall, 'endpoint'>>,
  ): Promise<Model> {
    const model = await modelForTask(
      this.accounting,
      call.model,
      'text_generation',
      call.principal,
      call.endpoint === undefined ? null : ENDPOINT_PATHS[call.endpoint],
    );
    const { maxTokens } = call.sampling;
    if (maxTokens !== undefined && maxTokens >= model.contextLength) {
      throw ApiError.invalidRequest(
        `max_tokens is too large: ${maxTokens}. This model's context length is ${model.contextLength} tokens, prompt included.`,
        'max_tokens',
        'invalid_value',
      );
    }
    return model;
  }

  /** Tokens and money to reserve: every prompt at its upper bound, every choice at its maximum. */
  private worstCase(
    call: InferenceCall,
    model: Model,
  ): { tokens: number; costMicros: bigint } {
    const promptTokens = call.prompts.reduce(
      (sum, p) => sum + promptTokenBound(p),
      0,
    );
    const perChoice = call.sampling.maxTokens ?? model.contextLength;
    const completionTokens = perChoice * call.sampling.n * call.prompts.length;
    return {
      tokens: promptTokens + completionTokens,
      costMicros: costMicros({
        promptTokens,
        completionTokens,
        ...prices(model),
      }),
    };
  }
}
