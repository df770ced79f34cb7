import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import { atExit, killQuietly } from './last-resort';

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One long-running process the tests own (redis-server, a gateway, a worker): started, killed
 * with SIGKILL, stopped with SIGTERM, started again with the same command. Its output goes to
 * one log file, appended across restarts, each start marked.
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exit: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private starts = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return (
      this.child !== null &&
      this.child.exitCode === null &&
      this.child.signalCode === null
    );
  }

  /** Resolves when the current run ends (at once when nothing runs). */
  get exited(): Promise<Exit> {
    return this.exit;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts += 1;
    appendFileSync(
      this.logFile,
      `----- ${this.name}: start #${this.starts} at ${new Date().toISOString()}\n`,
    );
    const fd = openSync(this.logFile, 'a');
    const child = spawn(this.command, this.args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    // Only while it runs: a pid of a process already reaped may belong to someone else.
    const forget = atExit(() => killQuietly(child.pid));
    this.exit = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => {
        forget();
        resolve({ code, signal });
      }),
    );
    child.once('error', (error) =>
      appendFileSync(this.logFile, `spawn failed: ${error.message}\n`),
    );
  }

  /** SIGKILL: the process gets no chance to clean up (kill -9). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exit;
    const child = this.child;
    const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
    child?.kill('SIGTERM');
    const exit = await this.exit;
    clearTimeout(timer);
    return exit;
  }

  /** Everything the process wrote, across restarts. */
  output(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}
