import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/**
 * How the proxy treats connections: `up` forwards them; `refuse` drops each one at once (a server
 * that died); `blackhole` accepts and never answers (a server or network that hangs).
 */
export type ProxyMode = 'up' | 'refuse' | 'blackhole';

/**
 * A TCP proxy in front of a shared service (PostgreSQL, Redis), so a test can take the service
 * away from one app and give it back without touching the real server the rest of the suite uses.
 */
export class TcpProxy {
  private mode: ProxyMode = 'up';
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((client) => this.accept(client));

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target);
    const proxy = new TcpProxy(hostname, Number(port));
    await new Promise<void>((resolve) =>
      proxy.server.listen(0, '127.0.0.1', resolve),
    );
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  route(url: string): string {
    const routed = new URL(url);
    routed.hostname = '127.0.0.1';
    routed.port = String(this.port);
    return routed.toString();
  }

  /**
   * Switches mode. Going down cuts the connections open until now, as when the real server goes
   * away; coming back up leaves them be.
   */
  set(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'up') return;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.set('refuse');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    if (this.mode === 'blackhole') return;
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    upstream.once('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
