import { metricSum } from './support/app-process';
import { billingProblem, expectBilledAsDelivered } from './support/billing';
import { FaultStack } from './support/fault-stack';
import { report } from './support/report';
import {
  completed,
  type StreamOutcome,
  streamChat,
  streamMany,
  summarize,
} from './support/streams';
import { pause, until } from './support/until';

/** The plan's concurrency: the whole of it is in flight when the gateway dies. */
const CONCURRENCY = 4;
/** Long streams: at a batch of 2 on this model, several seconds each. */
const MAX_TOKENS = 200;

describe('kill -9 the gateway with streams in flight', () => {
  let stack: FaultStack;
  const workerMetrics = () => stack.workers[0].metrics();
  const generated = async () =>
    metricSum(await workerMetrics(), 'marquee_worker_tokens_generated_total');
  const active = async () =>
    metricSum(await workerMetrics(), 'marquee_worker_active_sequences');
  const queued = async () => {
    const text = await workerMetrics();
    return (
      metricSum(text, 'marquee_queue_jobs', 'state="waiting"') +
      metricSum(text, 'marquee_queue_jobs', 'state="active"')
    );
  };

  let inFlight: StreamOutcome[];
  let killedAt: number;
  let generatedAtKill: number;

  beforeAll(async () => {
    stack = await FaultStack.start({
      label: 'gateway-loss',
      workers: 1,
      // Two run, the rest wait in the queue: both kinds must stop with their requester.
      workerEnv: { MAX_BATCH_SIZE: '2' },
      model: { layers: 6, hidden: 384, heads: 4 },
    });
    await stack.setPlan({
      requests_per_minute: 10_000,
      tokens_per_minute: 10_000_000,
      max_concurrent_requests: CONCURRENCY,
    });

    const client = stack.client();
    let delivered = 0;
    const streams = streamMany(CONCURRENCY, () =>
      streamChat(client, stack.model, {
        maxTokens: MAX_TOKENS,
        deadlineMs: 60_000,
        onToken: () => (delivered += 1),
      }),
    );
    await until(
      'the worker to stream two sequences with more queued',
      async () =>
        (await active()) === 2 && (await queued()) >= 3 && delivered >= 20,
      60_000,
      50,
    );
    generatedAtKill = await generated();
    killedAt = Date.now();
    await stack.gateway.kill();
    inFlight = await streams;
  }, 240_000);

  afterAll(async () => {
    await stack?.dispose();
  }, 60_000);

  it('breaks the clients’ connections (the gateway is gone)', () => {
    expect(inFlight.filter(completed)).toHaveLength(0);
  });

  it('stops the sequences of the dead gateway within 5 s and starts none of its queued jobs', async () => {
    let stoppedAt: number | null = null;
    await until(
      'the worker to run and hold nothing',
      async () => (await active()) === 0 && (await queued()) === 0,
      5000,
      100,
    ).then(
      () => (stoppedAt = Date.now()),
      () => (stoppedAt = null),
    );
    const atStop = await generated();
    await pause(1500);
    const later = await generated();
    report(
      `gateway-loss: worker ${stoppedAt === null ? 'still running after 5 s' : `idle ${stoppedAt - killedAt} ms after the kill`}; ` +
        `${atStop - generatedAtKill} tokens generated after the kill, ${later - atStop} more in the next 1.5 s; ` +
        `active ${await active()}, queued ${await queued()}`,
    );
    expect(stoppedAt).not.toBeNull();
    expect(later).toBe(atStop);
  }, 30_000);

  it('gives the tenant its full concurrency again within 10 s of a restart', async () => {
    await stack.gateway.start();
    const restartedAt = Date.now();
    await stack.gateway.waitReady(1, 10_000);
    const client = stack.client();
    let refusals = 0;
    let attempts = 0;
    let admitted: StreamOutcome[] = [];
    await until(
      `${CONCURRENCY} concurrent requests to be admitted`,
      async () => {
        attempts += 1;
        const batch = await streamMany(CONCURRENCY, () =>
          streamChat(client, stack.model, { maxTokens: 4, deadlineMs: 20_000 }),
        );
        refusals += batch.filter((o) => o.error?.status === 429).length;
        admitted = batch;
        return batch.every(completed);
      },
      10_000,
      250,
    ).catch((error: Error) => {
      report(
        `gateway-loss: ${error.message}; last batch: ${summarize(admitted)}`,
      );
    });
    const took = Date.now() - restartedAt;
    report(
      `gateway-loss: after the restart, ${attempts} attempt(s), ${refusals} x 429, last batch ${summarize(admitted)}, ${took} ms`,
    );
    expect(summarize(admitted)).toBe(`${CONCURRENCY} x 200 completed`);
    expect(took).toBeLessThan(10_000);
    await expectBilledAsDelivered(stack, admitted, 30_000);
  }, 60_000);

  it('bills the interrupted streams once each, at least for what their clients received', async () => {
    const opened = inFlight.filter((o) => o.status === 200 && o.requestId);
    expect(opened.length).toBeGreaterThanOrEqual(2);
    const ledger = await stack.ledger.settled(
      opened.map((o) => o.requestId as string),
      30_000,
    );
    const problems = opened.flatMap((o) => {
      const entry = ledger.get(o.requestId as string);
      // The worker may have generated more than reached the client before the gateway died:
      // billing what the worker counted is the larger truth it can prove.
      const asDelivered = billingProblem(
        { ...o, tokens: entry?.completionTokens ?? o.tokens },
        entry,
      );
      if (asDelivered) return [asDelivered];
      if (entry && entry.completionTokens < o.tokens)
        return [
          `${o.requestId}: billed ${entry.completionTokens}, client received ${o.tokens}`,
        ];
      if (entry && entry.completionTokens > MAX_TOKENS)
        return [
          `${o.requestId}: billed ${entry.completionTokens} > max_tokens`,
        ];
      return [];
    });
    expect(problems).toEqual([]);
    expect(await stack.ledger.duplicates()).toEqual([]);
  }, 60_000);

  it('writes none of its secrets to any process log', () => {
    expect(stack.logFiles().length).toBeGreaterThanOrEqual(3);
    expect(stack.logsWithSecrets()).toEqual([]);
  });
});
