import type { Counter } from 'prom-client';

/** Where handled failures are logged: a Nest `Logger` or anything with its `warn`. */
export interface FailureLogger {
  warn(message: unknown, ...rest: unknown[]): void;
}

/** Logs a failure of the same operation at most once per this many ms (the rest are counted). */
export const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Failures a component handles on its own (a fallback value, a retry on the next tick, a 503 in
 * place of a stack trace), made loud: each is counted by operation in `counter`, and logged with
 * its context, once per {@link FAILURE_LOG_INTERVAL_MS} per operation so a dependency outage
 * writes one line, not one per request (the next line says how many were left unlogged).
 * Operation names are metric labels: a small fixed set such as `presence.read`.
 */
export class HandledFailures {
  private readonly lastLogged = new Map<string, number>();
  private readonly unlogged = new Map<string, number>();

  constructor(
    private readonly counter: Counter<'operation'>,
    private readonly logger: FailureLogger,
    private readonly intervalMs = FAILURE_LOG_INTERVAL_MS,
  ) {}

  /** Counts and (at most once per interval) logs a failure of `operation`. */
  report(
    operation: string,
    error: unknown,
    context: Record<string, unknown> = {},
  ): void {
    this.counter.inc({ operation });
    const now = Date.now();
    const last = this.lastLogged.get(operation);
    if (last !== undefined && now - last < this.intervalMs) {
      this.unlogged.set(operation, (this.unlogged.get(operation) ?? 0) + 1);
      return;
    }
    const more = this.unlogged.get(operation) ?? 0;
    this.lastLogged.set(operation, now);
    this.unlogged.delete(operation);
    this.logger.warn(
      {
        operation,
        ...context,
        err: error instanceof Error ? error.message : String(error),
        ...(more > 0 ? { unloggedSinceLast: more } : {}),
      },
      `${operation} failed (handled)`,
    );
  }

  /** A `.catch` handler: reports the failure, then answers `fallback`. */
  fallback<T>(
    operation: string,
    fallback: T,
    context?: Record<string, unknown>,
  ): (error: unknown) => T {
    return (error) => {
      this.report(operation, error, context);
      return fallback;
    };
  }

  /** A `.catch` handler: reports the failure, then throws `replacement` (e.g. a 503 for the client). */
  replace(
    operation: string,
    replacement: () => Error,
    context?: Record<string, unknown>,
  ): (error: unknown) => never {
    return (error) => {
      this.report(operation, error, context);
      throw replacement();
    };
  }
}
