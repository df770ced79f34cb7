import { Controller, Logger, Optional } from '@nestjs/common';
import { GatewayMetrics } from '@marquee/shared/util-observability';
import { GrpcStreamMethod } from '@nestjs/microservices';
import {
  type GatewayCommandMessage,
  type Received,
  WORKER_LINK_SERVICE,
  failureCodeFromWire,
  type wire,
} from '@marquee/contracts/proto';
import { type Observable, Subject } from 'rxjs';
import type { RequestEvent } from './request-events';
import { RequestRegistry, type WorkerLinkHandle } from './request-registry';

let nextLinkId = 1;

/** The gRPC end of the worker link: one bidirectional stream per connected worker. */
@Controller()
export class WorkerLinkController {
  private readonly logger = new Logger(WorkerLinkController.name);

  constructor(
    private readonly registry: RequestRegistry,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  @GrpcStreamMethod(WORKER_LINK_SERVICE, 'Connect')
  connect(
    reports: Observable<Received<wire.WorkerReport>>,
  ): Observable<GatewayCommandMessage> {
    const commands = new Subject<GatewayCommandMessage>();
    const link: WorkerLinkHandle = {
      id: nextLinkId++,
      send: (command) => commands.next(command),
    };
    let workerId = 'unknown';
    const closed = () => {
      this.logger.log({ workerId }, 'worker stream closed');
      this.registry.linkClosed(link);
      commands.complete();
    };
    reports.subscribe({
      next: (report) => {
        if (report.hello) {
          workerId = report.hello.workerId;
          this.logger.log(
            { workerId, models: report.hello.models },
            'worker connected',
          );
        }
        const sentAt = report.batch?.sentAtUnixMs;
        if (sentAt)
          this.metrics?.recordStage(
            'report',
            Math.max(0, performance.timeOrigin + performance.now() - sentAt) /
              1000,
          );
        for (const message of report.batch?.events ?? []) {
          const event = this.toRequestEvent(message, workerId);
          if (event) this.registry.dispatch(message.requestId, event, link);
        }
      },
      complete: closed,
      error: closed,
    });
    return commands.asObservable();
  }

  private toRequestEvent(
    message: Received<wire.RequestEvent>,
    workerId: string,
  ): RequestEvent | null {
    switch (message.event) {
      case 'started':
        return {
          type: 'started',
          workerId: message.started.workerId,
          promptTokens: message.started.promptTokens,
          pickupMs: message.started.pickupMs,
        };
      case 'tokens':
        return {
          type: 'tokens',
          choiceIndex: message.tokens.choiceIndex,
          text: message.tokens.text,
          tokens: message.tokens.tokens,
          ...(message.tokens.logprobs.length
            ? { logprobs: message.tokens.logprobs }
            : {}),
        };
      case 'finished':
        return {
          type: 'finished',
          promptTokens: message.finished.promptTokens,
          completionTokens: message.finished.completionTokens,
          choices: message.finished.choices,
          ...(message.finished.embeddings.length
            ? { embeddings: message.finished.embeddings }
            : {}),
        };
      case 'failed': {
        const { failed } = message;
        const code = failureCodeFromWire(failed.code);
        if (!code)
          this.logger.warn(
            { workerId, requestId: message.requestId, code: failed.code },
            'a worker reported a failure code this gateway does not know; it ends as model_error',
          );
        return {
          type: 'failed',
          code: code ?? 'model_error',
          message: failed.message,
          param: failed.param || null,
          promptTokens: failed.promptTokens,
          completionTokens: failed.completionTokens,
        };
      }
      case undefined:
        return null;
    }
  }
}
