import { Injectable, Logger } from '@nestjs/common';
import type { GatewayCommandMessage } from '@marquee/contracts/proto';
import { EventChannel } from './event-channel';
import {
  type ChannelEvent,
  isTerminal,
  type RequestEvent,
} from './request-events';

/** One worker's stream to this gateway: where cancellations for its requests go. */
export interface WorkerLinkHandle {
  readonly id: number;
  send(command: GatewayCommandMessage): void;
}

interface PendingRequest {
  events: EventChannel<ChannelEvent>;
  link: WorkerLinkHandle | null;
  cancelled: boolean;
  /** Whether any output of it was relayed (then a lost worker cannot be replaced). */
  streamed: boolean;
}

/**
 * The requests this gateway replica holds open, keyed by request id. Worker reports are routed
 * here; cancellations are routed back to the stream of the worker running the request.
 */
@Injectable()
export class RequestRegistry {
  private readonly logger = new Logger(RequestRegistry.name);
  private readonly pending = new Map<string, PendingRequest>();

  /** Starts tracking a request; its events can be read from the returned channel. */
  open(requestId: string): EventChannel<ChannelEvent> {
    if (this.pending.has(requestId))
      throw new Error(`request ${requestId} is already open`);
    const events = new EventChannel<ChannelEvent>();
    this.pending.set(requestId, {
      events,
      link: null,
      cancelled: false,
      streamed: false,
    });
    return events;
  }

  /**
   * Routes a worker's event. Events for requests nobody holds are answered with a cancel marked
   * `unheld` (the worker then bills nothing for them).
   */
  dispatch(
    requestId: string,
    event: RequestEvent,
    link: WorkerLinkHandle,
  ): void {
    const request = this.pending.get(requestId);
    if (!request) {
      // Its client was answered already (or it was never ours): stop it, and bill nothing.
      if (!isTerminal(event))
        link.send({ cancel: { requestId, unheld: true } });
      return;
    }
    if (event.type === 'started') {
      request.link = link;
      if (request.cancelled) link.send({ cancel: { requestId } });
    }
    if (event.type === 'tokens') request.streamed = true;
    request.events.push(event);
    if (isTerminal(event)) {
      request.events.close();
      this.pending.delete(requestId);
    }
  }

  /**
   * Asks the worker to stop a request. Before a worker has taken it, the cancel is remembered
   * and sent when it starts. Returns false for a request this replica does not hold.
   */
  cancel(requestId: string): boolean {
    const request = this.pending.get(requestId);
    if (!request) return false;
    request.cancelled = true;
    request.link?.send({ cancel: { requestId } });
    return true;
  }

  /** Fails a request locally (no worker took it, or the gateway gives up on it). */
  fail(
    requestId: string,
    event: Extract<RequestEvent, { type: 'failed' }>,
  ): void {
    const request = this.pending.get(requestId);
    if (!request) return;
    request.events.push(event);
    request.events.close();
    this.pending.delete(requestId);
  }

  /**
   * A worker stream ended: its unfinished requests cannot finish there any more. One that has
   * relayed output fails as `worker_lost`; one that has not is told `lost` and waits for its job
   * to come back from the queue (BullMQ's stalled check) to another worker.
   */
  linkClosed(link: WorkerLinkHandle): void {
    for (const [requestId, request] of this.pending) {
      if (request.link?.id !== link.id) continue;
      if (!request.streamed && !request.cancelled) {
        this.logger.warn(
          { requestId },
          'worker lost before the request streamed; it goes to another worker',
        );
        request.link = null;
        request.events.push({ type: 'lost' });
        continue;
      }
      this.logger.warn(
        { requestId },
        'worker stream closed with the request unfinished',
      );
      this.fail(requestId, {
        type: 'failed',
        code: 'worker_lost',
        message: 'The worker running this request went away.',
        param: null,
        promptTokens: 0,
        completionTokens: 0,
      });
    }
  }

  /** Requests open right now. */
  get size(): number {
    return this.pending.size;
  }
}
