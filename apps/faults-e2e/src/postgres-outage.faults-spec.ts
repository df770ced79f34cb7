import { expectBilledAsDelivered } from './support/billing';
import { expectNone } from './support/expect-none';
import {
  FaultStack,
  REFUSAL_BUDGET_MS,
  ROOMY_PLAN,
} from './support/fault-stack';
import { report } from './support/report';
import {
  completed,
  type StreamOutcome,
  streamChat,
  summarize,
} from './support/streams';
import { Traffic } from './support/traffic';
import { pause } from './support/until';

const OUTAGE_MS = 10_000;

describe('PostgreSQL stopped for 10 s under traffic', () => {
  let stack: FaultStack;
  let outcomes: StreamOutcome[];
  let stoppedAt: number;
  let backAt: number;
  const pids: (number | undefined)[] = [];

  beforeAll(async () => {
    stack = await FaultStack.start({ label: 'pg-outage', workers: 2 });
    await stack.setPlan(ROOMY_PLAN);
    pids.push(...[...stack.gateways, ...stack.workers].map((app) => app.pid));
    const client = stack.client();
    const traffic = new Traffic(8, () =>
      streamChat(client, stack.model, { maxTokens: 16, deadlineMs: 30_000 }),
    );
    await pause(3000);
    stoppedAt = Date.now();
    await stack.postgres.stopImmediate();
    await pause(OUTAGE_MS);
    await stack.postgres.start();
    backAt = Date.now();
    // Past the key cache and the pools' reconnects: a few seconds of traffic on a healthy database.
    await pause(8000);
    outcomes = await traffic.stop();
    report(
      `postgres-outage: ${summarize(outcomes)}; started during the outage: ` +
        `${summarize(outcomes.filter((o) => o.startedAt >= stoppedAt && o.startedAt < backAt))}; ` +
        `${outcomes.filter((o) => completed(o) && o.endedAt > stoppedAt && o.endedAt < backAt).length} completed while the database was down`,
    );
  }, 240_000);

  afterAll(async () => {
    await stack?.dispose();
  }, 60_000);

  it('kept serving before the outage, and finished streams during it (the traffic is real)', () => {
    expect(
      outcomes.filter((o) => o.startedAt < stoppedAt && completed(o)).length,
    ).toBeGreaterThan(5);
    // Their billing could not happen at once: these are the requests the outage puts at risk.
    expect(
      outcomes.filter(
        (o) => completed(o) && o.endedAt > stoppedAt && o.endedAt < backAt,
      ).length,
    ).toBeGreaterThan(0);
  });

  it('turns away what it cannot serve with 503 and retry-after in OpenAI shape, never a 5xx other than 503', () => {
    const failed = outcomes.filter((o) => !completed(o));
    const wrong = failed.filter(
      (o) =>
        o.error?.kind !== 'http' ||
        o.error.status !== 503 ||
        !/^\d+$/.test(o.error.retryAfter ?? '') ||
        !o.error.type,
    );
    expectNone(wrong);
  });

  it('answers within 2.5 s during the outage, without stalling', () => {
    const slow = outcomes.filter(
      (o) => !completed(o) && o.endedAt - o.startedAt > REFUSAL_BUDGET_MS,
    );
    expectNone(slow);
  });

  it('recovers without restarting the gateway or the workers', () => {
    const late = outcomes.filter((o) => o.startedAt > backAt + 5000);
    expect(late.length).toBeGreaterThan(0);
    expect({ late: summarize(late) }).toEqual({
      late: `${late.length} x 200 completed`,
    });
    expect(
      [...stack.gateways, ...stack.workers].map(
        (app) => app.running && app.pid,
      ),
    ).toEqual(pids);
  });

  it('bills every completed request exactly once after it returns, within 30 s of the database coming back', async () => {
    const waited = Math.max(0, 30_000 - (Date.now() - backAt));
    await expectBilledAsDelivered(
      stack,
      outcomes.filter((o) => completed(o) || o.status !== 200),
      waited,
    );
  }, 60_000);

  it('writes none of its secrets to any process log', () => {
    expect(stack.logFiles().length).toBeGreaterThanOrEqual(3);
    expect(stack.logsWithSecrets()).toEqual([]);
  });
});
