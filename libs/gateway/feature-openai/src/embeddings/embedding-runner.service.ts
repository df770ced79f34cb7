import { Injectable } from '@nestjs/common';
import type { EmbeddingInputPayload } from '@marquee/contracts/queue';
import type { Model } from '@marquee/gateway/data-access-db';
import { EmbeddingQueue } from '@marquee/gateway/data-access-queue';
import { AdmissionService } from '@marquee/gateway/feature-quotas';
import {
  isTerminal,
  type RequestEvent,
  RequestRegistry,
} from '@marquee/gateway/transport-grpc';
import { costMicros } from '@marquee/gateway/util-billing';
import { ApiError, type Principal } from '@marquee/gateway/util-http';
import { promptTokenBound } from '../inference/prompt-bound';
import { JobDispatch } from '../inference/job-dispatch.service';
import type { QueueDeadline } from '../inference/queue-deadline';
import { modelForTask } from '../inference/task-model';
import {
  RequestAccounting,
  prices,
} from '../inference/request-accounting.service';

/** A validated embeddings request, ready to queue. */
export interface EmbeddingCall {
  principal: Principal;
  requestId: string;
  model: string;
  inputs: EmbeddingInputPayload[];
  dimensions?: number;
}

/** What an embeddings request ended with. */
export type EmbeddingOutcome = Extract<
  RequestEvent,
  { type: 'finished' | 'failed' }
>;

/**
 * Admits, queues and follows embedding requests, as {@link InferenceRunner} does for generation:
 * model lookup (task `embedding`, visible to the key; a text-generation model is a 400),
 * admission, the model's queue, the worker link, and settlement of the prompt tokens.
 */
@Injectable()
export class EmbeddingRunner {
  /** Requests queued and not yet ended, by request id. */
  private readonly queued = new Map<string, QueueDeadline>();

  constructor(
    private readonly queue: EmbeddingQueue,
    private readonly registry: RequestRegistry,
    private readonly admission: AdmissionService,
    private readonly accounting: RequestAccounting,
    private readonly dispatch: JobDispatch,
  ) {}

  /** Runs the request to its end; the caller maps a `failed` outcome to an API error. */
  async run(call: EmbeddingCall): Promise<{
    model: Model;
    outcome: EmbeddingOutcome;
    headers: Record<string, string>;
  }> {
    const model = await modelForTask(
      this.accounting,
      call.model,
      'embedding',
      call.principal,
      '/v1/embeddings',
    );
    await this.dispatch.ensureServed(model.name);
    const tokens = call.inputs.reduce((sum, i) => sum + promptTokenBound(i), 0);
    const admission = await this.admission.admit({
      requestId: call.requestId,
      tenantId: call.principal.tenantId,
      apiKeyId: call.principal.apiKeyId,
      tokens,
      costMicros: costMicros({
        promptTokens: tokens,
        completionTokens: 0,
        ...prices(model),
      }),
      limits: call.principal,
    });
    const channel = this.registry.open(call.requestId);
    let started = false;
    const deadline = await this.dispatch.dispatch(
      this.queue,
      {
        kind: 'embedding',
        requestId: call.requestId,
        tenantId: call.principal.tenantId,
        apiKeyId: call.principal.apiKeyId,
        model: model.name,
        inputs: call.inputs,
        ...(call.dimensions !== undefined
          ? { dimensions: call.dimensions }
          : {}),
        billing: this.accounting.billingOf(model, admission),
      },
      'embeddings',
      call.principal,
      admission,
      () => started,
    );
    this.queued.set(call.requestId, deadline);
    try {
      for await (const event of channel) {
        if (event.type === 'lost') {
          started = false;
          await this.dispatch.requeued(call.requestId, deadline);
          continue;
        }
        if (event.type === 'started') started = true;
        if (isTerminal(event)) {
          // The worker records an embedding's usage with its result; a failed one (a lost
          // worker's included) delivered nothing and is billed nothing.
          await this.accounting.ended(
            {
              requestId: call.requestId,
              principal: call.principal,
              endpoint: 'embeddings',
              model,
              admission,
            },
            event.type === 'finished'
              ? { kind: 'recorded', tokens: event.promptTokens }
              : { kind: 'not_run' },
          );
          return { model, outcome: event, headers: admission.headers };
        }
      }
    } finally {
      deadline.clear();
      this.queued.delete(call.requestId);
    }
    throw ApiError.internal(call.requestId);
  }

  /** Cancels a request whose client went away (before a worker took it, the job is withdrawn). */
  cancel(requestId: string): void {
    this.registry.cancel(requestId);
    this.queued.get(requestId)?.cancel();
  }
}
