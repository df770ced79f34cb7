import { Injectable, Optional } from '@nestjs/common';
import type {
  ChoiceFinishMessage,
  TokenLogprobMessage,
} from '@marquee/contracts/proto';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import type { FastifyReply } from 'fastify';
import type { RunningRequest } from '../inference/inference-runner.service';
import { failureToApiError } from './failure-to-api-error';
import { deliverRun, openEventStream } from './run-delivery';
import {
  type FinishedChoice,
  type ResponseFormat,
  usageOf,
} from './response-format';

/** How the client asked to receive the result. */
export interface Delivery {
  stream: boolean;
  includeUsage: boolean;
  /** Choices the request produces (prompts x n). */
  choiceCount: number;
  requestId: string;
}

/**
 * Sends a running request's result: one JSON body, or Server-Sent Events as OpenAI streams them
 * (`data: {json}\n\n` ... `data: [DONE]\n\n`). Headers are committed only once a worker has
 * taken the request, so errors found before that still get a proper status code.
 */
@Injectable()
export class ResponseWriter {
  constructor(@Optional() private readonly metrics?: GatewayMetrics) {}

  async send(
    run: RunningRequest,
    format: ResponseFormat,
    delivery: Delivery,
    reply: FastifyReply,
  ): Promise<void> {
    await deliverRun(run, reply, this.metrics, (metered) =>
      delivery.stream
        ? this.stream(metered, format, delivery, reply)
        : this.whole(metered, format, delivery, reply),
    );
  }

  private async whole(
    run: RunningRequest,
    format: ResponseFormat,
    delivery: Delivery,
    reply: FastifyReply,
  ) {
    const texts = new Map<number, string>();
    const logprobs = new Map<number, TokenLogprobMessage[]>();
    for await (const event of run.events()) {
      switch (event.type) {
        case 'started':
          break;
        case 'tokens':
          texts.set(
            event.choiceIndex,
            (texts.get(event.choiceIndex) ?? '') + event.text,
          );
          if (event.logprobs)
            logprobs.set(event.choiceIndex, [
              ...(logprobs.get(event.choiceIndex) ?? []),
              ...event.logprobs,
            ]);
          break;
        case 'failed':
          throw failureToApiError(event, delivery.requestId);
        case 'finished': {
          const choices = finishedChoices(event.choices, texts, logprobs);
          await reply
            .status(200)
            .send(
              format.body(
                choices,
                usageOf(event.promptTokens, event.completionTokens),
              ),
            );
          return;
        }
      }
    }
  }

  private async stream(
    run: RunningRequest,
    format: ResponseFormat,
    delivery: Delivery,
    reply: FastifyReply,
  ) {
    const raw = reply.raw;
    const write = (payload: object | string) => {
      if (!raw.writableEnded && !raw.destroyed)
        raw.write(
          `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`,
        );
    };
    const withUsage = (chunk: object) =>
      delivery.includeUsage ? { ...chunk, usage: null } : chunk;
    let open = false;
    for await (const event of run.events()) {
      if (!open && event.type === 'failed')
        throw failureToApiError(event, delivery.requestId);
      if (!open) {
        openEventStream(reply);
        open = true;
        for (let i = 0; i < delivery.choiceCount; i++) {
          const chunk = format.openChunk(i);
          if (chunk) write(withUsage(chunk));
        }
      }
      switch (event.type) {
        case 'started':
          break;
        case 'tokens':
          if (event.text || event.logprobs?.length) {
            const chunk = format.textChunk(
              event.choiceIndex,
              event.text,
              event.logprobs,
            );
            if (chunk) write(withUsage(chunk));
          }
          break;
        case 'failed':
          write(failureToApiError(event, delivery.requestId).toBody());
          raw.end();
          return;
        case 'finished':
          for (const choice of [...event.choices].sort(
            (a, b) => a.index - b.index,
          )) {
            write(
              withUsage(format.finishChunk(choice.index, choice.finishReason)),
            );
          }
          if (delivery.includeUsage)
            write(
              format.usageChunk(
                usageOf(event.promptTokens, event.completionTokens),
              ),
            );
          write('[DONE]');
          raw.end();
          return;
      }
    }
  }
}

function finishedChoices(
  choices: ChoiceFinishMessage[],
  texts: Map<number, string>,
  logprobs: Map<number, TokenLogprobMessage[]>,
): FinishedChoice[] {
  return [...choices]
    .sort((a, b) => a.index - b.index)
    .map((c) => ({
      index: c.index,
      text: texts.get(c.index) ?? '',
      finishReason: c.finishReason,
      logprobs: logprobs.get(c.index),
    }));
}
