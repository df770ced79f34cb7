/**
 * Which PostgreSQL and Redis `npm start` uses. An explicit DATABASE_URL or REDIS_URL is used as
 * given, always. Otherwise the default local server when one answers; when none does (or
 * MARQUEE_EMBEDDED=1 says so), one of its own: an embedded PostgreSQL from npm, a private
 * `redis-server`, both with their data in the state folder, both stopped with `npm start`.
 */
import { createConnection } from 'node:net';
import { relative } from 'node:path';
import { Client } from 'pg';
import {
  ensureRedis,
  redact,
  ROOT,
  SetupError,
  type Supervisor,
} from '@marquee/shared/util-setup';
import { prepareEmbeddedPostgres } from './embedded-postgres';
import { preparePrivateRedis } from './private-redis';
import { tail } from './service-process';

/** `auto`: own servers only where nothing answers; `always` (MARQUEE_EMBEDDED=1); `never` (=0). */
export type EmbedMode = 'auto' | 'always' | 'never';

/** A service `npm start` hands to the gateway and the worker. */
export interface ProvidedService {
  url: string;
  /** How it was found, for the banner: `embedded, data in .marquee/postgres`, `given`, `local`. */
  origin: string;
  /** Its log, where `npm start` started it. */
  logFile?: string;
}

export interface ServiceOptions {
  /** DATABASE_URL / REDIS_URL when set: used as given. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  defaultDatabaseUrl: string;
  defaultRedisUrl: string;
  mode: EmbedMode;
  stateDir: string;
  /** Runs (and restarts) the servers started here; the caller stops it after the apps. */
  services: Supervisor;
  log: (line: string) => void;
}

/** Finds or starts PostgreSQL, waiting until it accepts connections. */
export async function providePostgres(
  options: ServiceOptions,
): Promise<ProvidedService> {
  if (options.databaseUrl) return { url: options.databaseUrl, origin: 'given' };
  const fallback = options.defaultDatabaseUrl;
  if (await useDefault(fallback, options.mode)) {
    return { url: fallback, origin: 'local' };
  }
  const database =
    decodeURIComponent(new URL(fallback).pathname.slice(1)) || 'marquee';
  options.log(
    `${why(fallback, options.mode, 'PostgreSQL')}; starting an embedded PostgreSQL (data in ${shown(options.stateDir)}/postgres)`,
  );
  const server = await prepareEmbeddedPostgres(
    options.stateDir,
    database,
    options.log,
  );
  options.services.add('postgres', server.start, { stopSignal: 'SIGINT' });
  const admin = new URL(server.url);
  admin.pathname = '/postgres';
  await until('the embedded PostgreSQL', server.logFile, () =>
    postgresAnswers(admin.toString()),
  );
  return {
    url: server.url,
    origin: `embedded, data in ${shown(options.stateDir)}/postgres`,
    logFile: server.logFile,
  };
}

/** Finds or starts Redis, waiting until it answers PING. */
export async function provideRedis(
  options: ServiceOptions,
): Promise<ProvidedService> {
  if (options.redisUrl) return { url: options.redisUrl, origin: 'given' };
  const fallback = options.defaultRedisUrl;
  if (await useDefault(fallback, options.mode)) {
    return { url: fallback, origin: 'local' };
  }
  const reason = why(fallback, options.mode, 'Redis');
  const server = await preparePrivateRedis(options.stateDir, reason);
  options.log(
    `${reason}; starting a private redis-server (data in ${shown(options.stateDir)}/redis)`,
  );
  options.services.add('redis', server.start);
  await until('the private redis-server', server.logFile, () =>
    redisAnswers(server.url),
  );
  return {
    url: server.url,
    origin: `private redis-server, data in ${shown(options.stateDir)}/redis`,
    logFile: server.logFile,
  };
}

async function useDefault(url: string, mode: EmbedMode): Promise<boolean> {
  if (mode === 'never') return true; // and if nothing answers, say so as before
  if (mode === 'always') return false;
  return listening(url);
}

function why(url: string, mode: EmbedMode, what: string): string {
  return mode === 'always'
    ? 'MARQUEE_EMBEDDED=1'
    : `no ${what} answers at ${redact(url)}`;
}

/** A path as the user would type it from the repository root. */
function shown(path: string): string {
  const inRepo = relative(ROOT, path);
  return inRepo && !inRepo.startsWith('..') ? inRepo : path;
}

/** Whether something accepts TCP connections at the URL's host and port. */
function listening(url: string): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url);
  const defaultPort = protocol.startsWith('redis') ? 6379 : 5432;
  return new Promise((resolve) => {
    const socket = createConnection({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port) || defaultPort,
    });
    socket.setTimeout(1000);
    const answer = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.once('connect', () => answer(true));
    socket.once('timeout', () => answer(false));
    socket.once('error', () => answer(false)); // refused or unreachable: nothing answers
  });
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    return true;
  } catch {
    return false; // not up yet; `until` reports the server's log if it never comes
  } finally {
    await client.end().catch(() => undefined); // closing a client that never connected
  }
}

function redisAnswers(url: string): Promise<boolean> {
  return ensureRedis(url, 2000).then(
    () => true,
    () => false, // not up yet; `until` reports the server's log if it never comes
  );
}

/** Polls `ready` until true; fails after 60 s with the end of the server's log. */
async function until(
  what: string,
  logFile: string,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new SetupError(
    `${what} did not come up in 60 s; the end of ${logFile}:\n${tail(logFile)}`,
  );
}
