import { Client } from 'pg';
import { Redis } from 'ioredis';

/** A problem the user can fix; printed as one line, no stack trace. */
export class SetupError extends Error {}

/** The URL with any password masked, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** Connects to PostgreSQL's maintenance database and creates the target database if missing. */
export async function ensureDatabase(
  databaseUrl: string,
): Promise<{ created: boolean }> {
  const url = new URL(databaseUrl);
  const database =
    decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({
    connectionString: admin.toString(),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new SetupError(
      `PostgreSQL is not reachable at ${redact(databaseUrl)} (${(error as Error).message || (error as { code?: string }).code}). ` +
        'Start it (Debian: pg_ctlcluster <version> main start; Docker: docker compose up -d postgres) or set DATABASE_URL.',
    );
  }
  try {
    const { rowCount } = await client.query(
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [database],
    );
    if (rowCount) return { created: false };
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    return { created: true };
  } finally {
    await client.end();
  }
}

/**
 * Fails with a one-line message when Redis does not answer PING (one try, giving up on a
 * connection not made within `connectTimeoutMs`).
 */
export async function ensureRedis(
  redisUrl: string,
  connectTimeoutMs = 5000,
): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: connectTimeoutMs,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new SetupError(
      `Redis is not reachable at ${redact(redisUrl)} (${(error as Error).message}). ` +
        'Start it (Debian: redis-server --daemonize yes; Docker: docker compose up -d redis) or set REDIS_URL.',
    );
  } finally {
    redis.disconnect();
  }
}
