import type { ChildProcess } from 'node:child_process';
import { stopProcess } from './processes';

/** Restart policy of a `Supervisor`. */
export interface SupervisorOptions {
  /** Wait before the first restart of a process, in ms (default 500); doubles on each quick failure. */
  backoffMs?: number;
  /** Longest wait between restarts, in ms (default 10,000). */
  maxBackoffMs?: number;
  /** A run at least this long (ms, default 10,000) was healthy: the next failure starts the count again. */
  healthyAfterMs?: number;
  /** Quick failures in a row after which the supervisor gives up on a process (default 5). */
  maxQuickFailures?: number;
  /** Where it says what it does (default: console.error with a `marquee:` prefix). */
  log?: (line: string) => void;
  /** Called once when a process failed too often; the caller decides (`npm start` stops everything). */
  onGiveUp?: (name: string) => void;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

/** How one supervised process is stopped. */
export interface SupervisedOptions {
  /** The signal that asks it to stop (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
}

interface Supervised {
  name: string;
  start: () => ChildProcess;
  stopSignal: NodeJS.Signals;
  child: ChildProcess | null;
  startedAt: number;
  failures: number;
  restart: ReturnType<typeof setTimeout> | null;
}

/**
 * Keeps the processes `npm start` started running: one that exits is started again (each on its
 * own, so a dead worker does not take the gateway with it), after a backoff that doubles while it
 * keeps dying within `healthyAfterMs` of starting, and given up on after `maxQuickFailures` such
 * failures in a row. `stop()` ends them all and restarts nothing.
 */
export class Supervisor {
  private readonly entries: Supervised[] = [];
  private stopping = false;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly healthyAfterMs: number;
  private readonly maxQuickFailures: number;
  private readonly log: (line: string) => void;
  private readonly onGiveUp: (name: string) => void;
  private readonly now: () => number;

  constructor(options: SupervisorOptions = {}) {
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.healthyAfterMs = options.healthyAfterMs ?? 10_000;
    this.maxQuickFailures = options.maxQuickFailures ?? 5;
    this.log = options.log ?? ((line) => console.error(`marquee: ${line}`));
    this.onGiveUp = options.onGiveUp ?? (() => undefined);
    this.now = options.now ?? Date.now;
  }

  /** Starts `start()` now and supervises it under `name`. */
  add(
    name: string,
    start: () => ChildProcess,
    options: SupervisedOptions = {},
  ): void {
    const entry: Supervised = {
      name,
      start,
      stopSignal: options.stopSignal ?? 'SIGTERM',
      child: null,
      startedAt: 0,
      failures: 0,
      restart: null,
    };
    this.entries.push(entry);
    this.launch(entry);
  }

  /** The processes running now. */
  get children(): ChildProcess[] {
    return this.entries.flatMap((e) => (e.child ? [e.child] : []));
  }

  /** Stops every process (its stop signal, then SIGKILL after `graceMs`); nothing is restarted after. */
  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    for (const entry of this.entries) {
      if (entry.restart) clearTimeout(entry.restart);
      entry.restart = null;
    }
    await Promise.all(
      this.entries.map((entry) =>
        entry.child
          ? stopProcess(entry.child, graceMs, entry.stopSignal)
          : undefined,
      ),
    );
  }

  private launch(entry: Supervised): void {
    entry.restart = null;
    const child = entry.start();
    entry.child = child;
    entry.startedAt = this.now();
    child.once('exit', (code, signal) => {
      entry.child = null;
      if (!this.stopping) this.exited(entry, code, signal);
    });
  }

  private exited(
    entry: Supervised,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const ranMs = this.now() - entry.startedAt;
    entry.failures = ranMs >= this.healthyAfterMs ? 1 : entry.failures + 1;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const ran = `after ${(ranMs / 1000).toFixed(1)} s`;
    if (entry.failures > this.maxQuickFailures) {
      this.log(
        `${entry.name} exited (${how}) ${ran}, ${entry.failures} times in a row within ` +
          `${this.healthyAfterMs / 1000} s of starting; giving up on it`,
      );
      this.onGiveUp(entry.name);
      return;
    }
    const delay = Math.min(
      this.backoffMs * 2 ** (entry.failures - 1),
      this.maxBackoffMs,
    );
    this.log(
      `${entry.name} exited (${how}) ${ran}; restarting it in ${delay} ms ` +
        `(attempt ${entry.failures} of ${this.maxQuickFailures})`,
    );
    entry.restart = setTimeout(() => {
      if (!this.stopping) this.launch(entry);
    }, delay);
  }
}
