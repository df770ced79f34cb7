import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Supervisor } from './supervisor';

/** A stand-in for a child process: `die()` makes it exit; `kill()` ends it at once. */
class FakeChild extends EventEmitter {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;

  die(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.die(null, signal);
    return true;
  }
}

describe('Supervisor', () => {
  let clock: number;
  let lines: string[];
  let gaveUp: string[];
  let started: Record<string, FakeChild[]>;

  const supervisor = (options = {}) =>
    new Supervisor({
      backoffMs: 100,
      maxBackoffMs: 1000,
      healthyAfterMs: 10_000,
      maxQuickFailures: 3,
      log: (line) => lines.push(line),
      onGiveUp: (name) => gaveUp.push(name),
      now: () => clock,
      ...options,
    });
  const starter = (name: string) => () => {
    const child = new FakeChild();
    (started[name] ??= []).push(child);
    return child as unknown as ChildProcess;
  };

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    lines = [];
    gaveUp = [];
    started = {};
  });
  afterEach(() => jest.useRealTimers());

  it('restarts a worker that dies, says so with its exit code, and leaves the gateway running', () => {
    const s = supervisor();
    s.add('gateway', starter('gateway'));
    s.add('worker', starter('worker'));
    clock = 60_000;
    started.worker[0].die(137);
    expect(lines).toEqual([
      'worker exited (exit code 137) after 60.0 s; restarting it in 100 ms (attempt 1 of 3)',
    ]);
    jest.advanceTimersByTime(100);
    expect(started.worker).toHaveLength(2);
    expect(started.gateway).toHaveLength(1);
    expect(s.children).toHaveLength(2);
  });

  it('names the signal when a process was killed by one', () => {
    const s = supervisor();
    s.add('worker', starter('worker'));
    started.worker[0].die(null, 'SIGKILL');
    expect(lines[0]).toMatch(
      /^worker exited \(signal SIGKILL\) after 0\.0 s; restarting/,
    );
  });

  it('backs off twice as long on each quick failure, then gives up', () => {
    const s = supervisor();
    s.add('gateway', starter('gateway'));
    for (const delay of [100, 200, 400]) {
      started.gateway.at(-1)?.die(1);
      jest.advanceTimersByTime(delay - 1);
      const before = started.gateway.length;
      jest.advanceTimersByTime(1);
      expect(started.gateway.length).toBe(before + 1);
    }
    started.gateway.at(-1)?.die(1);
    expect(lines.at(-1)).toBe(
      'gateway exited (exit code 1) after 0.0 s, 4 times in a row within 10 s of starting; giving up on it',
    );
    expect(gaveUp).toEqual(['gateway']);
    jest.advanceTimersByTime(60_000);
    expect(started.gateway).toHaveLength(4);
  });

  it('starts counting again after a healthy run', () => {
    const s = supervisor();
    s.add('worker', starter('worker'));
    started.worker[0].die(1);
    jest.advanceTimersByTime(100);
    started.worker[1].die(1);
    jest.advanceTimersByTime(200);
    clock += 30_000;
    started.worker[2].die(1);
    expect(lines.at(-1)).toMatch(/restarting it in 100 ms \(attempt 1 of 3\)$/);
  });

  it('stops everything on stop() and restarts nothing after', async () => {
    const s = supervisor();
    s.add('gateway', starter('gateway'));
    s.add('worker', starter('worker'));
    started.worker[0].die(1);
    await s.stop();
    jest.advanceTimersByTime(60_000);
    expect(started.worker).toHaveLength(1);
    expect(started.gateway[0].signalCode).toBe('SIGTERM');
    expect(s.children).toHaveLength(0);
  });
});
