import { Injectable, Logger, Optional } from '@nestjs/common';
import type { RequestEvent } from '@marquee/gateway/transport-grpc';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';
import type { RunningRequest } from '../inference/inference-runner.service';
import { failureToApiError } from '../responses/failure-to-api-error';
import { deliverRun, openEventStream } from '../responses/run-delivery';
import { inResponsesTerms } from './response-errors';
import {
  type ResponseEventSequence,
  type RunEnd,
  type StreamEvent,
  sseFrame,
} from './response-events';
import type { ResponseObject } from './response-object';

/** How the client asked to receive the response, and what to do with it once it is done. */
export interface ResponseDelivery {
  stream: boolean;
  requestId: string;
  /**
   * Stores a completed or incomplete response (`store`), before the client is told it is done, so
   * a follow-up may name it at once; absent: nothing is stored.
   */
  keep?: (response: ResponseObject) => Promise<void>;
}

/** Tokens the client was sent: what a lost worker's request is billed (see requestEnd). */
interface Relayed {
  promptTokens: number;
  completionTokens: number;
}

const finishedEnd = (
  event: Extract<RequestEvent, { type: 'finished' }>,
): RunEnd => ({
  kind: 'finished',
  finishReason: event.choices[0]?.finishReason ?? 'stop',
  promptTokens: event.promptTokens,
  completionTokens: event.completionTokens,
});

const failedEnd = (
  event: Extract<RequestEvent, { type: 'failed' }>,
  requestId: string,
  relayed: Relayed,
): RunEnd => {
  const error = inResponsesTerms(failureToApiError(event, requestId));
  return {
    kind: 'failed',
    code: error.status >= 500 ? 'server_error' : (error.code ?? 'server_error'),
    message: error.message,
    // A lost worker reports nothing: the gateway counts what it relayed.
    promptTokens: Math.max(event.promptTokens, relayed.promptTokens),
    completionTokens: Math.max(
      event.completionTokens,
      relayed.completionTokens,
    ),
  };
};

/** The response the last event of a sequence carries. */
const finalResponse = (events: StreamEvent[]) =>
  events.at(-1)?.response as ResponseObject;

/**
 * Sends a running request's result as the Responses API does: one response object, or Server-Sent
 * Events (`event: <type>` and `data: {json}` with its `sequence_number`). As with chat, headers are
 * committed only once a worker has taken the request, so errors found before that still get a
 * proper status code; a failure after that ends the stream with `response.failed`.
 */
@Injectable()
export class ResponsesWriter {
  private readonly logger = new Logger(ResponsesWriter.name);

  constructor(@Optional() private readonly metrics?: GatewayMetrics) {}

  async send(
    run: RunningRequest,
    sequence: ResponseEventSequence,
    delivery: ResponseDelivery,
    reply: FastifyReply,
  ): Promise<void> {
    await deliverRun(run, reply, this.metrics, (metered) =>
      delivery.stream
        ? this.stream(metered, sequence, delivery, reply)
        : this.whole(metered, sequence, delivery, reply),
    );
  }

  private async whole(
    run: RunningRequest,
    sequence: ResponseEventSequence,
    delivery: ResponseDelivery,
    reply: FastifyReply,
  ) {
    for await (const event of run.events()) {
      switch (event.type) {
        case 'started':
          break;
        case 'tokens':
          sequence.text(event.text);
          break;
        case 'failed':
          throw inResponsesTerms(failureToApiError(event, delivery.requestId));
        case 'finished': {
          const response = finalResponse(sequence.end(finishedEnd(event)));
          await this.keep(response, delivery);
          await reply.status(200).send(response);
          return;
        }
      }
    }
  }

  private async stream(
    run: RunningRequest,
    sequence: ResponseEventSequence,
    delivery: ResponseDelivery,
    reply: FastifyReply,
  ) {
    const raw = reply.raw;
    const write = (events: StreamEvent[]) => {
      if (raw.writableEnded || raw.destroyed) return;
      for (const e of events) raw.write(sseFrame(e));
    };
    let open = false;
    const relayed: Relayed = { promptTokens: 0, completionTokens: 0 };
    for await (const event of run.events()) {
      if (!open && event.type === 'failed')
        throw inResponsesTerms(failureToApiError(event, delivery.requestId));
      if (!open) {
        openEventStream(reply);
        open = true;
        write(sequence.start());
      }
      switch (event.type) {
        case 'started':
          relayed.promptTokens = event.promptTokens;
          break;
        case 'tokens':
          relayed.completionTokens += event.tokens;
          write(sequence.text(event.text));
          break;
        case 'failed':
        case 'finished': {
          const events = sequence.end(
            event.type === 'finished'
              ? finishedEnd(event)
              : failedEnd(event, delivery.requestId, relayed),
          );
          if (event.type === 'finished')
            await this.keep(finalResponse(events), delivery);
          write(events);
          raw.end();
          return;
        }
      }
    }
  }

  // Storing is best effort once the tokens are generated and billed: the client still gets its
  // answer, and the failure is logged and counted (a later GET or previous_response_id of it
  // answers 404 / 400).
  private async keep(response: ResponseObject, delivery: ResponseDelivery) {
    if (!delivery.keep) return;
    try {
      await delivery.keep(response);
    } catch (error) {
      const context = { requestId: delivery.requestId, response: response.id };
      if (this.metrics)
        this.metrics.failures.report('responses.store', error, context);
      else
        this.logger.warn(
          { ...context, err: error instanceof Error ? error.message : error },
          'storing the response failed',
        );
    }
  }
}
