import { Counter, Registry } from 'prom-client';
import { HandledFailures } from './handled-failures';

function setup(intervalMs = 1_000) {
  const registry = new Registry();
  const counter = new Counter({
    name: 'test_handled_failures_total',
    help: 'test',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const lines: { entry: Record<string, unknown>; message: string }[] = [];
  const failures = new HandledFailures(
    counter,
    {
      warn: (entry, message) =>
        lines.push({
          entry: entry as Record<string, unknown>,
          message: message as string,
        }),
    },
    intervalMs,
  );
  const count = async (operation: string) =>
    (await counter.get()).values.find((v) => v.labels.operation === operation)
      ?.value ?? 0;
  return { failures, lines, count };
}

describe('HandledFailures', () => {
  afterEach(() => jest.useRealTimers());

  it('counts every failure but logs an outage once, then says how many went unlogged', async () => {
    jest.useFakeTimers({ now: 0 });
    const { failures, lines, count } = setup(1_000);
    const fallback = failures.fallback('presence.read', [] as string[], {
      model: 'm',
    });
    for (let i = 0; i < 5; i++)
      expect(fallback(new Error('ECONNREFUSED'))).toEqual([]);
    expect(await count('presence.read')).toBe(5);
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toBe('presence.read failed (handled)');
    expect(lines[0].entry).toMatchObject({
      operation: 'presence.read',
      model: 'm',
      err: 'ECONNREFUSED',
    });
    jest.setSystemTime(1_001);
    fallback(new Error('ECONNREFUSED'));
    expect(lines).toHaveLength(2);
    expect(lines[1].entry.unloggedSinceLast).toBe(4);
  });

  it('keeps operations apart: one outage does not silence another', () => {
    const { failures, lines } = setup();
    failures.report('a', new Error('x'));
    failures.report('b', new Error('y'));
    expect(lines.map((l) => l.entry.operation)).toEqual(['a', 'b']);
  });

  it('replace reports, then throws the replacement instead of the cause', () => {
    const { failures, lines } = setup();
    const handler = failures.replace('db.read', () => new Error('503 for you'));
    expect(() => handler(new Error('password=hunter2 refused'))).toThrow(
      '503 for you',
    );
    expect(lines).toHaveLength(1);
  });
});
