import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
} from '@nestjs/common';
import { WorkerConfig } from '@marquee/worker/util-config';
import { GatewayLink } from './gateway-link';

/** DI token: the model names this worker serves (announced to gateways). */
export const SERVED_MODELS = Symbol('SERVED_MODELS');

/**
 * One {@link GatewayLink} per gateway replica this worker reports to, opened on the first job
 * that names the replica and reopened after a broken stream.
 */
@Injectable()
export class GatewayLinkPool implements OnModuleDestroy {
  private readonly logger = new Logger(GatewayLinkPool.name);
  private readonly links = new Map<string, GatewayLink>();
  private readonly cancelListeners = new Set<
    (requestId: string, unheld: boolean) => void
  >();
  private readonly closeListeners = new Set<(address: string) => void>();
  private activeRequests = () => 0;

  constructor(
    private readonly config: WorkerConfig,
    @Inject(SERVED_MODELS) private readonly models: string[],
  ) {}

  /** The link to `address`, opened if needed. */
  link(address: string): GatewayLink {
    const existing = this.links.get(address);
    if (existing && !existing.isClosed) return existing;
    const link = new GatewayLink(address, {
      workerId: this.config.workerId,
      models: this.models,
      flushMs: this.config.frameFlushMs,
      heartbeatMs: this.config.heartbeatMs,
      activeRequests: () => this.activeRequests(),
      onCancel: (requestId, unheld) =>
        this.cancelListeners.forEach((listener) => listener(requestId, unheld)),
      onClosed: (closed) => {
        if (this.links.get(address) === closed) this.links.delete(address);
        this.logger.log(`link to gateway ${address} closed`);
        this.closeListeners.forEach((listener) => listener(address));
      },
    });
    this.links.set(address, link);
    this.logger.log(`link to gateway ${address} opened`);
    return link;
  }

  /** Registers the callback for gateways' cancel commands. */
  onCancel(listener: (requestId: string, unheld: boolean) => void): void {
    this.cancelListeners.add(listener);
  }

  /**
   * Registers a callback for a link that closed (its gateway died, or the stream broke): the
   * requests it carried have nobody to report to any more.
   */
  onLinkClosed(listener: (address: string) => void): void {
    this.closeListeners.add(listener);
  }

  reportActiveRequests(count: () => number): void {
    this.activeRequests = count;
  }

  onModuleDestroy(): void {
    for (const link of this.links.values()) link.close();
  }
}
