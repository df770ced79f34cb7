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
import { pause, until } from './support/until';

const OUTAGE_MS = 6000;

describe('Redis killed (kill -9) and restarted under traffic', () => {
  let stack: FaultStack;
  let outcomes: StreamOutcome[];
  let killedAt: number;
  let backAt: number;
  let recoveredAt: number | null = null;
  const pids: (number | undefined)[] = [];
  const spanning = () =>
    outcomes.filter((o) => o.startedAt < killedAt && o.endedAt > killedAt);

  beforeAll(async () => {
    stack = await FaultStack.start({ label: 'redis-outage', workers: 2 });
    await stack.setPlan(ROOMY_PLAN);
    pids.push(...[...stack.gateways, ...stack.workers].map((app) => app.pid));
    const client = stack.client();
    // Long enough that streams are open, and jobs queued, when Redis dies.
    const traffic = new Traffic(12, () =>
      streamChat(client, stack.model, { maxTokens: 48, deadlineMs: 60_000 }),
    );
    await pause(3000);
    killedAt = Date.now();
    await stack.redis.kill();
    // Fresh requests all through the outage, whatever the lanes are stuck on.
    const probes: Promise<StreamOutcome>[] = [];
    const probing = setInterval(
      () =>
        probes.push(
          streamChat(client, stack.model, { maxTokens: 8, deadlineMs: 60_000 }),
        ),
      500,
    );
    await pause(OUTAGE_MS);
    clearInterval(probing);
    await stack.redis.start();
    backAt = Date.now();
    await until(
      'a request started after Redis came back to complete',
      () => traffic.startedBetween(backAt).some(completed),
      30_000,
    ).then(
      () => (recoveredAt = Date.now()),
      () => (recoveredAt = null),
    );
    await pause(3000);
    outcomes = [...(await traffic.stop()), ...(await Promise.all(probes))];
    report(
      `redis-outage: ${summarize(outcomes)}; started during the outage: ` +
        `${summarize(outcomes.filter((o) => o.startedAt >= killedAt && o.startedAt < backAt))}; ` +
        `in flight at the kill: ${summarize(spanning())}, the last ended ` +
        `${Math.max(0, ...spanning().map((o) => o.endedAt)) - backAt} ms after Redis came back; ` +
        `recovered ${recoveredAt === null ? 'never' : `${recoveredAt - backAt} ms`} after Redis came back`,
    );
  }, 240_000);

  afterAll(async () => {
    await stack?.dispose();
  }, 60_000);

  it('kept serving before the outage (the traffic is real)', () => {
    expect(
      outcomes.filter((o) => o.startedAt < killedAt && completed(o)).length,
    ).toBeGreaterThan(5);
  });

  it('refuses with 503 and retry-after in OpenAI shape meanwhile, never 500', () => {
    const refused = outcomes.filter((o) => o.error?.kind === 'http');
    const wrong = refused.filter(
      (o) =>
        o.error?.status !== 503 ||
        !/^\d+$/.test(o.error.retryAfter ?? '') ||
        !o.error.type,
    );
    expectNone(wrong);
  });

  it('sent fresh requests during the outage (the refusals are exercised)', () => {
    expect(
      outcomes.filter((o) => o.startedAt >= killedAt && o.startedAt < backAt)
        .length,
    ).toBeGreaterThanOrEqual(OUTAGE_MS / 500 - 1);
  });

  it('ends what was in flight at the kill within 5 s of Redis coming back, without a long stall', () => {
    expectNone(spanning().filter((o) => o.endedAt - backAt > 5000));
  });

  it('answers a refused request within 2.5 s, without stalling', () => {
    const slow = outcomes.filter(
      (o) =>
        o.error?.kind === 'http' && o.endedAt - o.startedAt > REFUSAL_BUDGET_MS,
    );
    expectNone(slow);
  });

  it('ends every accepted request with its result or an error event, not a hang or a reset', () => {
    const accepted = outcomes.filter((o) => o.status === 200);
    const bad = accepted.filter(
      (o) => !completed(o) && o.error?.kind !== 'event',
    );
    expectNone(bad);
    // Nothing else either: every request was answered somehow, none timed out or was reset.
    const unanswered = outcomes.filter(
      (o) => o.error?.kind === 'timeout' || o.error?.kind === 'connection',
    );
    expectNone(unanswered);
  });

  it('recovers within 10 s of Redis coming back, without restarting the gateway or the workers', () => {
    expect(recoveredAt).not.toBeNull();
    expect((recoveredAt ?? Infinity) - backAt).toBeLessThan(10_000);
    const late = outcomes.filter(
      (o) => o.startedAt > (recoveredAt ?? Infinity),
    );
    expect({ late: summarize(late) }).toEqual({
      late: `${late.length} x 200 completed`,
    });
    expect(
      [...stack.gateways, ...stack.workers].map(
        (app) => app.running && app.pid,
      ),
    ).toEqual(pids);
  });

  it('loses no accepted request: each is billed exactly once, for what its client received', async () => {
    await expectBilledAsDelivered(stack, outcomes, 30_000);
  }, 60_000);

  it('writes none of its secrets to any process log', () => {
    expect(stack.logFiles().length).toBeGreaterThanOrEqual(3);
    expect(stack.logsWithSecrets()).toEqual([]);
  });
});
