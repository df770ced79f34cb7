/** Which backing service an error says is out of reach (`network`: a socket error naming neither). */
export type UnavailableDependency = 'database' | 'redis' | 'network';

/** Socket-level failures: the peer refused, reset, or never answered. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Prisma's codes for "could not reach, lost, or timed out waiting for the database": P1001
 * unreachable, P1002 timed out, P1003 database missing, P1008 operation timed out, P1017 server
 * closed the connection, P2024 no pooled connection in time.
 */
const PRISMA_UNAVAILABLE = new Set([
  'P1001',
  'P1002',
  'P1003',
  'P1008',
  'P1017',
  'P2024',
]);

/** Driver-adapter error kinds (`meta.driverAdapterError.cause.kind`) that mean the same. */
const ADAPTER_UNAVAILABLE = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);

/**
 * PostgreSQL SQLSTATEs of a server going away or refusing connections: class 08 (connection
 * exception), 57P01-57P03 (shutdown, crash, not yet accepting), 53300 (too many connections).
 */
const isUnavailableSqlState = (code: string) =>
  /^08/.test(code) || /^57P0[123]$/.test(code) || code === '53300';

/** node-postgres and pg-pool messages for lost or never-made connections. */
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

/** ioredis messages for commands that could not be sent or answered in time. */
const REDIS_MESSAGES =
  /Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request|^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;

type Fields = {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  meta?: {
    driverAdapterError?: {
      cause?: { kind?: unknown; originalCode?: unknown; code?: unknown };
    };
  };
  cause?: unknown;
};

const asString = (v: unknown): string => (typeof v === 'string' ? v : '');

function classifyOne(error: Fields): UnavailableDependency | null {
  const name = asString(error.name);
  const code = asString(error.code);
  const message = asString(error.message);
  if (name === 'PrismaClientInitializationError') return 'database';
  if (name.startsWith('PrismaClient') && PRISMA_UNAVAILABLE.has(code))
    return 'database';
  const adapter = error.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (ADAPTER_UNAVAILABLE.has(asString(adapter.kind))) return 'database';
    const sqlState = asString(adapter.originalCode) || asString(adapter.code);
    if (isUnavailableSqlState(sqlState)) return 'database';
  }
  if (PG_MESSAGES.test(message)) return 'database';
  // A pg DatabaseError carries its SQLSTATE as `code` and a `severity`.
  if ('severity' in error && isUnavailableSqlState(code)) return 'database';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.test(message))
    return 'redis';
  if (SOCKET_CODES.has(code)) return 'network';
  return null;
}

/**
 * Whether `error` (or an error in its `cause` chain) says PostgreSQL or Redis is out of reach,
 * rather than that the request or the code is wrong. Such failures are answered 503 with
 * `retry-after`, never 500.
 */
export function unavailableDependency(
  error: unknown,
): UnavailableDependency | null {
  let network = false;
  let current: unknown = error;
  for (
    let depth = 0;
    depth < 5 && current && typeof current === 'object';
    depth++
  ) {
    const found = classifyOne(current as Fields);
    if (found === 'database' || found === 'redis') return found;
    if (found === 'network') network = true;
    current = (current as Fields).cause;
  }
  return network ? 'network' : null;
}
