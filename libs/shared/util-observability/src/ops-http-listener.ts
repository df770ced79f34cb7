import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A process's own small HTTP server (metrics, probes), apart from any public API: listens on its
 * port, tells which port it got (for port 0), and closes with its connections.
 */
export class OpsHttpListener {
  private server: Server | null = null;

  constructor(private readonly handler: RequestListener) {}

  /** The port it listens on; 0 when it is not listening. */
  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Starts listening; rejects (and stays closed) when the port cannot be had. */
  async listen(port: number, host: string): Promise<void> {
    const server = createServer(this.handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    this.server = server;
  }

  /** Stops listening and drops open connections (scrapers keep them alive). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
