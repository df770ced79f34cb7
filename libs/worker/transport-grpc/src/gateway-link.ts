import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  PROTO_LOADER_OPTIONS,
  type Received,
  type RequestEventMessage,
  WORKER_LINK_PACKAGE,
  WORKER_LINK_PROTO,
  WORKER_LINK_SERVICE,
  type WorkerReportMessage,
  protoRoot,
  type wire,
} from '@marquee/contracts/proto';

type ClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: object,
) => grpc.Client;

let clientConstructor: ClientConstructor | null = null;

function workerLinkClient(): ClientConstructor {
  if (!clientConstructor) {
    const definition = protoLoader.loadSync(WORKER_LINK_PROTO, {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: [protoRoot()],
    });
    const loaded = grpc.loadPackageDefinition(definition);
    const service = WORKER_LINK_PACKAGE.split('.').reduce<unknown>(
      (node, part) => (node as Record<string, unknown>)[part],
      loaded,
    ) as Record<string, unknown>;
    clientConstructor = service[WORKER_LINK_SERVICE] as ClientConstructor;
  }
  return clientConstructor;
}

export interface GatewayLinkOptions {
  workerId: string;
  models: string[];
  /**
   * Reports go out at most this often while the link is busy, ms (events then wait up to this
   * long, batched into one report); a quiet link sends on the next tick.
   */
  flushMs: number;
  heartbeatMs: number;
  activeRequests: () => number;
  /** `unheld`: the gateway holds no such request (nobody receives its output). */
  onCancel: (requestId: string, unheld: boolean) => void;
  onClosed: (link: GatewayLink) => void;
}

/**
 * The worker's stream to one gateway replica. Request events are queued and flushed as one
 * report per interval: many requests' tokens share a message.
 */
export class GatewayLink {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<
    WorkerReportMessage,
    Received<wire.GatewayCommand>
  >;
  private pending: RequestEventMessage[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** When the last report went out (`performance.now()`), for batching under load. */
  private lastFlushAt = -Infinity;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly address: string,
    private readonly options: GatewayLinkOptions,
  ) {
    const Client = workerLinkClient();
    this.client = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    });
    const connect = (
      this.client as unknown as Record<
        string,
        () => grpc.ClientDuplexStream<
          WorkerReportMessage,
          Received<wire.GatewayCommand>
        >
      >
    ).connect;
    this.call = connect.call(this.client);
    this.call.on('data', (command: Received<wire.GatewayCommand>) => {
      if (command.cancel?.requestId)
        options.onCancel(command.cancel.requestId, command.cancel.unheld);
    });
    this.call.on('error', () => this.close());
    this.call.on('end', () => this.close());
    this.call.write({
      hello: { workerId: options.workerId, models: options.models },
    });
    this.heartbeat = setInterval(() => {
      this.call.write({
        heartbeat: {
          workerId: options.workerId,
          sentAtMs: Date.now(),
          activeRequests: options.activeRequests(),
        },
      });
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queues an event. Terminal events flush at once so the client is not kept waiting; others go
   * out with the events of the same tick when the link has been quiet for `flushMs`, and are
   * batched for up to `flushMs` while it is busy (many requests' tokens then share a message).
   */
  send(event: RequestEventMessage, flushNow = false): void {
    if (this.closed) return;
    this.pending.push(event);
    if (flushNow) return this.flush();
    if (this.flushTimer || this.immediate) return;
    const wait = this.lastFlushAt + this.options.flushMs - performance.now();
    if (wait <= 0) this.immediate = setImmediate(() => this.flush());
    else this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.flushTimer = null;
    this.immediate = null;
    if (this.closed || this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.lastFlushAt = performance.now();
    this.call.write({
      batch: {
        events,
        sentAtUnixMs: performance.timeOrigin + performance.now(),
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.call.end();
    this.client.close();
    this.options.onClosed(this);
  }
}
