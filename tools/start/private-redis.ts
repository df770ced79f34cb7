/**
 * Redis for `npm start` on a machine where none answers: a `redis-server` from the PATH (npm has
 * no package with Redis binaries), on a free port of 127.0.0.1, its append-only file in
 * `<stateDir>/redis` so queued jobs survive a restart.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, SetupError } from '@marquee/shared/util-setup';
import { spawnService } from './service-process';

/** A private Redis: `start()` runs it (again, after a crash) on the port in `url`. */
export interface PrivateRedis {
  url: string;
  /** Its log. */
  logFile: string;
  /** Starts the server in its own process group; SIGTERM flushes its data and stops it. */
  start: () => ChildProcess;
}

/**
 * Checks that `redis-server` exists, makes its folder and picks a port. `reason` says why one is
 * needed (`no Redis answers at ...`), for the message when there is none.
 */
export async function preparePrivateRedis(
  stateDir: string,
  reason: string,
): Promise<PrivateRedis> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new SetupError(
      `${reason} and there is no redis-server on the PATH: install one ` +
        '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or set REDIS_URL',
    );
  }
  const dir = join(stateDir, 'redis');
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const port = await freePort();
  return {
    url: `redis://127.0.0.1:${port}`,
    logFile,
    start: () =>
      spawnService(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          // Queued jobs and unsettled usage live in Redis: every write goes to the append-only
          // file, as in production (see docker-compose.yml), so a restart loses at most a second.
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          '--daemonize',
          'no',
        ],
        logFile,
      ),
  };
}
