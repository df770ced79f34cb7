import { Injectable, Logger } from '@nestjs/common';
import type { PromptPayload, SamplingPayload } from '@marquee/contracts/queue';
import {
  ModelRepository,
  type Model,
  UsageRepository,
} from '@marquee/gateway/data-access-db';
import { InferenceQueue } from '@marquee/gateway/data-access-queue';
import {
  isTerminal,
  type RequestEvent,
  RequestRegistry,
} from '@marquee/gateway/transport-grpc';
import { GatewayConfig } from '@marquee/gateway/util-config';
import { ApiError, type Principal } from '@marquee/gateway/util-http';

/** A validated generation request, ready to queue. */
export interface InferenceCall {
  principal: Principal;
  requestId: string;
  endpoint: 'completions' | 'chat.completions';
  model: string;
  prompts: PromptPayload[];
  sampling: SamplingPayload;
}

/** A queued request: its events as they arrive, and a way to cancel it. */
export interface RunningRequest {
  readonly model: Model;
  /** Events until (and including) the terminal one; usage is recorded as that one passes. */
  events(): AsyncGenerator<RequestEvent>;
  /** The client went away: stop the work (billing follows what was generated). */
  cancel(): void;
}

/**
 * Queues generation requests and follows them to the end: the bridge between the HTTP
 * controllers, the BullMQ queue and the worker link.
 */
@Injectable()
export class InferenceRunner {
  private readonly logger = new Logger(InferenceRunner.name);

  constructor(
    private readonly config: GatewayConfig,
    private readonly models: ModelRepository,
    private readonly queue: InferenceQueue,
    private readonly registry: RequestRegistry,
    private readonly usage: UsageRepository,
  ) {}

  async start(call: InferenceCall): Promise<RunningRequest> {
    const model = await this.models.findByName(call.model).catch(() => {
      throw ApiError.unavailable(
        'The database is unavailable; try again shortly.',
        'database_unavailable',
      );
    });
    if (!model || model.task !== 'text_generation')
      throw ApiError.modelNotFound(call.model);
    const { maxTokens } = call.sampling;
    if (maxTokens !== undefined && maxTokens >= model.contextLength) {
      throw ApiError.invalidRequest(
        `max_tokens is too large: ${maxTokens}. This model's context length is ${model.contextLength} tokens, prompt included.`,
        'max_tokens',
        'invalid_value',
      );
    }

    const channel = this.registry.open(call.requestId);
    try {
      await this.queue.enqueue({
        requestId: call.requestId,
        tenantId: call.principal.tenantId,
        apiKeyId: call.principal.apiKeyId,
        model: model.name,
        endpoint: call.endpoint,
        prompts: call.prompts,
        sampling: call.sampling,
        replyTo: {
          gatewayId: this.config.gatewayId,
          address: this.config.grpcAdvertiseAddress,
        },
        enqueuedAt: Date.now(),
      });
    } catch (error) {
      this.registry.fail(
        call.requestId,
        failure('queue_unavailable', 'queue unavailable'),
      );
      this.logger.error(
        { requestId: call.requestId, err: String(error) },
        'enqueue failed',
      );
      throw ApiError.unavailable(
        'The request queue is unavailable; try again shortly.',
        'queue_unavailable',
      );
    }

    let started = false;
    const timer = setTimeout(() => {
      if (started) return;
      void this.withdraw(
        model.name,
        call.requestId,
        failure('no_worker_available', 'No worker took the request in time.'),
      );
    }, this.config.queueTimeoutMs);

    const record = (event: RequestEvent) =>
      this.record(call, model, event, started);
    return {
      model,
      events: async function* () {
        try {
          for await (const event of channel) {
            if (event.type === 'started') started = true;
            if (isTerminal(event)) {
              clearTimeout(timer);
              await record(event);
            }
            yield event;
          }
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: () => {
        this.registry.cancel(call.requestId);
        if (!started)
          void this.withdraw(
            model.name,
            call.requestId,
            failure('cancelled', 'The client disconnected.'),
          );
      },
    };
  }

  /** Takes a job back from the queue if no worker has it yet, and ends the request locally. */
  private async withdraw(
    model: string,
    requestId: string,
    event: Extract<RequestEvent, { type: 'failed' }>,
  ) {
    if (await this.queue.withdraw(model, requestId))
      this.registry.fail(requestId, event);
  }

  /** Appends the usage row for a request that a worker ran (finished, cancelled or failed mid-way). */
  private async record(
    call: InferenceCall,
    model: Model,
    event: RequestEvent,
    started: boolean,
  ): Promise<void> {
    if (event.type !== 'finished' && !(event.type === 'failed' && started))
      return;
    const finishReason =
      event.type === 'finished'
        ? summarizeFinish(event.choices.map((c) => c.finishReason))
        : event.code;
    try {
      await this.usage.append({
        requestId: call.requestId,
        tenantId: call.principal.tenantId,
        apiKeyId: call.principal.apiKeyId,
        modelId: model.id,
        endpoint: call.endpoint,
        promptTokens: event.promptTokens,
        completionTokens: event.completionTokens,
        finishReason,
      });
    } catch (error) {
      // The response still goes out; the missing row is visible in the logs for reconciliation.
      this.logger.error(
        { requestId: call.requestId, err: String(error) },
        'usage record failed',
      );
    }
  }
}

function failure(
  code: string,
  message: string,
): Extract<RequestEvent, { type: 'failed' }> {
  return {
    type: 'failed',
    code,
    message,
    param: null,
    promptTokens: 0,
    completionTokens: 0,
  };
}

function summarizeFinish(reasons: string[]): string {
  const distinct = [...new Set(reasons)];
  return distinct.length === 1 ? distinct[0] : distinct.sort().join(',');
}
