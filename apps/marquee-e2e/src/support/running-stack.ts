import type { ChildProcess } from 'node:child_process';

/** What the global teardown needs to stop (globals set in global setup reach the teardown). */
export interface RunningStack {
  children: ChildProcess[];
  workDir: string;
  model: string;
  redisUrl: string;
  /** The run's own database, dropped at teardown. */
  databaseUrl: string;
}

const KEY = '__marqueeE2eStack';

export function setRunningStack(stack: RunningStack): void {
  (globalThis as Record<string, unknown>)[KEY] = stack;
}

export function runningStack(): RunningStack | undefined {
  return (globalThis as Record<string, unknown>)[KEY] as
    | RunningStack
    | undefined;
}

/** Stops children with SIGTERM (they shut down gracefully), then SIGKILL after `graceMs`. */
export async function stopAll(
  children: ChildProcess[],
  graceMs = 5000,
): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null)
            return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
