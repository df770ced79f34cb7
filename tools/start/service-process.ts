import {
  type ChildProcess,
  spawn,
  type SpawnOptions,
} from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/**
 * Starts a service `npm start` owns (PostgreSQL, Redis) in a process group of its own, its
 * output appended to `logFile`. Its own group: a terminal's Ctrl-C reaches `npm start`, the
 * gateway and the worker, not the services they still need while they drain; `npm start` stops
 * them last.
 */
export function spawnService(
  command: string,
  args: string[],
  logFile: string,
  options: Pick<SpawnOptions, 'env' | 'uid' | 'gid'> = {},
): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    return spawn(command, args, {
      ...options,
      detached: true,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log); // the child holds its own copy
  }
}

/** The last lines of a log, for an error message. */
export function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  }
}
