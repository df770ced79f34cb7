import { metricSum } from './support/app-process';
import { describeOutcome, expectNone } from './support/expect-none';
import { FaultStack, ROOMY_PLAN } from './support/fault-stack';
import { expectBilledAsDelivered } from './support/billing';
import {
  completed,
  type StreamOutcome,
  streamChat,
  streamMany,
  summarize,
} from './support/streams';
import { report } from './support/report';
import { until } from './support/until';

/** 200 streams of 48 tokens: about 5 s of work for two workers on two cores, batches of 32. */
const STREAMS = 200;
const MAX_TOKENS = 48;

describe('workers lost: kill -9 a worker under load, then no worker at all', () => {
  let stack: FaultStack;

  beforeAll(async () => {
    stack = await FaultStack.start({
      label: 'worker-loss',
      workers: 2,
      workerEnv: { MAX_BATCH_SIZE: '32' },
    });
    await stack.setPlan(ROOMY_PLAN);
  }, 300_000);

  afterAll(async () => {
    await stack?.dispose();
  }, 60_000);

  describe(`kill -9 one of two workers during ${STREAMS} concurrent streams`, () => {
    let outcomes: StreamOutcome[];
    let killedAt: number;
    const streamedBeforeKill = (o: StreamOutcome) =>
      o.firstTokenAt !== null && o.firstTokenAt <= killedAt;

    beforeAll(async () => {
      const client = stack.client();
      let delivered = 0;
      const streams = streamMany(STREAMS, () =>
        streamChat(client, stack.model, {
          maxTokens: MAX_TOKENS,
          deadlineMs: 90_000,
          onToken: () => (delivered += 1),
        }),
      );
      // Mid-flight: the victim runs a full batch, clients have tokens, and most work is left.
      const victim = stack.workers[0];
      await until(
        'worker-1 to be streaming a batch',
        async () =>
          metricSum(
            await victim.metrics(),
            'marquee_worker_active_sequences',
          ) >= 16 && delivered >= 300,
        60_000,
        50,
      );
      killedAt = Date.now();
      const deliveredAtKill = delivered;
      await victim.kill();
      outcomes = await streams;
      const after = (at: number | null) =>
        at === null ? '-' : `${((at - killedAt) / 1000).toFixed(1)}s`;
      const waiting = outcomes.filter((o) => !streamedBeforeKill(o));
      const firstTokens = waiting
        .map((o) => o.firstTokenAt ?? Infinity)
        .sort((a, b) => a - b);
      report(
        `worker-loss: killed worker-1 with ${deliveredAtKill} tokens delivered; ${summarize(outcomes)}; ` +
          `${waiting.length} had streamed nothing at the kill (first tokens from ${after(firstTokens[0])} ` +
          `to ${after(firstTokens.at(-1) ?? null)} after it); last ended ${after(Math.max(...outcomes.map((o) => o.endedAt)))} after the kill`,
      );
    }, 150_000);

    it('ends every request within 15 s of the kill, none hanging', () => {
      const late = outcomes.filter((o) => o.endedAt - killedAt > 15_000);
      expectNone(late, (o) => describeOutcome(o, killedAt));
    });

    it('finishes on the other worker every request that had streamed nothing yet', () => {
      // Exact from the client's side: a request that ends without a token was never streamed
      // (the kill time alone cannot say: tokens relayed just before it are read just after).
      const unfinished = outcomes.filter(
        (o) => o.tokens === 0 && !completed(o),
      );
      expectNone(unfinished, (o) => describeOutcome(o, killedAt));
    });

    it('ends an interrupted stream with an error event in OpenAI shape, never a reset or a 5xx body', () => {
      const broken = outcomes.filter((o) => !completed(o) && o.tokens > 0);
      const notEvents = broken.filter((o) => o.error?.kind !== 'event');
      expectNone(notEvents, (o) => describeOutcome(o, killedAt));
      for (const o of broken)
        expect(o.error?.message).toEqual(expect.any(String));
      expect(outcomes.every((o) => o.status === null || o.status < 500)).toBe(
        true,
      );
    });

    it('names each response by its x-request-id, in every chunk id', () => {
      const ids = outcomes.map((o) => o.requestId);
      expect(
        ids.every((id) => typeof id === 'string' && /^req_/.test(id)),
      ).toBe(true);
      expect(new Set(ids).size).toBe(STREAMS);
      expect(outcomes.filter((o) => !o.idsMatchRequest)).toHaveLength(0);
    });

    it('bills each request exactly once, for exactly the tokens its client received', async () => {
      await expectBilledAsDelivered(stack, outcomes, 30_000);
    }, 60_000);
  });

  describe('no worker alive', () => {
    beforeAll(async () => {
      for (const worker of stack.workers) await worker.kill();
      // The gateway knows: readiness reports no worker (its registry, not a queue timeout).
      await until(
        'the gateway to see no live worker',
        async () => (await stack.gateway.readiness()).workers === 0,
        30_000,
      );
    }, 60_000);

    it('answers 503 with retry-after at once, not after the queue timeout', async () => {
      const outcome = await streamChat(stack.client(), stack.model, {
        maxTokens: 8,
        deadlineMs: 20_000,
      });
      expect(outcome.error).toMatchObject({
        kind: 'http',
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
      });
      expect(outcome.endedAt - outcome.startedAt).toBeLessThan(2000);
    }, 30_000);

    it('answers a non-streamed request the same way', async () => {
      const startedAt = Date.now();
      const error = await stack
        .client()
        .completions.create({
          model: stack.model,
          prompt: 'A heist',
          max_tokens: 4,
        })
        .then(
          () => null,
          (e: unknown) => e as { status?: number; headers?: Headers },
        );
      expect(error?.status).toBe(503);
      expect(error?.headers?.get('retry-after')).toMatch(/^\d+$/);
      expect(Date.now() - startedAt).toBeLessThan(2000);
    }, 30_000);
  });

  it('writes none of its secrets to any process log', () => {
    expect(stack.logFiles().length).toBeGreaterThanOrEqual(3);
    expect(stack.logsWithSecrets()).toEqual([]);
  });
});
