import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ServiceProcess } from './service-process';
import { GiveUp, until } from './until';

/**
 * A `redis-server` (from PATH) of the test's own, on its own port and directory, that the test
 * may kill -9 and start again.
 *
 * Why AOF with `appendfsync always`: Marquee's durability needs it. The queue (BullMQ jobs that
 * the gateway acknowledged to a client with 200), the usage a worker made durable with a job's
 * end, and the concurrency leases all live in Redis. Without the append-only file, a restarted
 * Redis comes back empty (or from the last RDB snapshot, minutes old) and acknowledged jobs and
 * unsettled usage are silently gone. With `appendonly yes`, every write is in the AOF before
 * Redis answers, so a killed Redis restarts with everything it acknowledged. Production
 * (docker-compose.yml, deploy/) must run Redis the same way: `--appendonly yes` (with
 * `--appendfsync everysec` at least; `always` to survive a machine crash, not only a process
 * crash) on a persistent volume.
 */
export class RedisServer {
  private readonly process: ServiceProcess;

  constructor(
    readonly port: number,
    readonly dir: string,
    logDir: string,
  ) {
    this.process = new ServiceProcess(
      'redis-server',
      process.env.REDIS_SERVER_BIN ?? 'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
      ],
      join(logDir, 'redis-server.log'),
    );
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Starts it (again, on the same port and AOF) and waits until it answers PING. */
  async start(): Promise<void> {
    this.process.start();
    await until(
      'redis-server to answer PING',
      async () => {
        if (!this.process.running)
          throw new GiveUp(
            `redis-server exited:\n${this.process.output().slice(-2000)}`,
          );
        return this.ping();
      },
      15_000,
    );
  }

  /** kill -9: no shutdown, no final save; only what is in the AOF survives. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  async stop(): Promise<void> {
    await this.process.stop(5000);
  }

  async ping(): Promise<boolean> {
    const client = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1000,
    });
    // A refused connection is the answer here, not a failure to report.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}
