import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FailureCode,
  type RequestEventMessage,
} from '@marquee/contracts/proto';
import type { InferenceJob } from '@marquee/contracts/queue';
import { makeCausalLm } from '@marquee/shared/model-maker';
import { TextGenerator } from '@marquee/worker/inference';
import { runJob } from './run-job';

const CONTEXT = 64;

function job(overrides: Partial<InferenceJob> = {}): InferenceJob {
  return {
    requestId: 'req_test',
    tenantId: 't',
    apiKeyId: 'k',
    model: 'tiny',
    endpoint: 'completions',
    prompts: [{ kind: 'text', text: 'A director walks into' }],
    sampling: { maxTokens: 6, n: 1, temperature: 0, topP: 1, stop: [] },
    replyTo: { gatewayId: 'g', address: '127.0.0.1:1' },
    enqueuedAt: 0,
    ...overrides,
  };
}

/** Records what a job reports, as the gateway would receive it. */
function recorder() {
  const events: RequestEventMessage[] = [];
  return {
    events,
    sink: { send: (event: RequestEventMessage) => void events.push(event) },
  };
}

const kinds = (events: RequestEventMessage[]) =>
  events.map((e) =>
    e.started
      ? 'started'
      : e.tokens
        ? 'tokens'
        : e.finished
          ? 'finished'
          : 'failed',
  );

describe('runJob', () => {
  let root: string;
  let generator: TextGenerator;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-run-job-'));
    const made = makeCausalLm({
      out: join(root, 'm'),
      name: 'tiny',
      layers: 2,
      hidden: 32,
      heads: 2,
      vocab: 300,
      context: CONTEXT,
      seed: 5,
    });
    generator = await TextGenerator.load(made.dir, { intraOpThreads: 1 });
  });

  afterAll(async () => {
    await generator?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports started, token frames and a finish whose counts match the frames', async () => {
    const { events, sink } = recorder();
    await runJob(job(), generator, sink, 'w1', new AbortController().signal);
    const order = kinds(events);
    expect(order[0]).toBe('started');
    expect(order.at(-1)).toBe('finished');
    const finished = events.at(-1)?.finished;
    const framed = events.reduce((sum, e) => sum + (e.tokens?.tokens ?? 0), 0);
    expect(finished?.completionTokens).toBe(framed);
    expect(finished?.promptTokens).toBe(events[0].started?.promptTokens);
    expect(finished?.promptTokens).toBe(
      generator.encode({ kind: 'text', text: 'A director walks into' }).length,
    );
  });

  it('numbers choices prompt by prompt, n per prompt', async () => {
    const { events, sink } = recorder();
    const prompts = [
      { kind: 'text' as const, text: 'First' },
      { kind: 'text' as const, text: 'Second one' },
    ];
    await runJob(
      job({
        prompts,
        sampling: {
          maxTokens: 3,
          n: 2,
          temperature: 1,
          topP: 1,
          seed: 3,
          stop: [],
        },
      }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    const finished = events.at(-1)?.finished;
    expect(finished?.choices?.map((c) => c.index).sort()).toEqual([0, 1, 2, 3]);
    expect(finished?.completionTokens).toBe(12);
    const indexes = new Set(
      events.filter((e) => e.tokens).map((e) => e.tokens?.choiceIndex),
    );
    expect([...indexes].sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects a prompt that does not fit the context before starting, naming max_tokens', async () => {
    const { events, sink } = recorder();
    await runJob(
      job({
        sampling: {
          maxTokens: CONTEXT,
          n: 1,
          temperature: 0,
          topP: 1,
          stop: [],
        },
      }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    expect(kinds(events)).toEqual(['failed']);
    expect(events[0].failed).toMatchObject({
      code: FailureCode.CONTEXT_LENGTH_EXCEEDED,
      param: 'max_tokens',
      completionTokens: 0,
    });
  });

  it('names messages when a chat prompt alone overflows the context', async () => {
    const { events, sink } = recorder();
    const messages = [{ role: 'user' as const, content: 'word '.repeat(200) }];
    await runJob(
      job({
        endpoint: 'chat.completions',
        prompts: [{ kind: 'chat', messages }],
        sampling: { n: 1, temperature: 0, topP: 1, stop: [] },
      }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    expect(events[0].failed).toMatchObject({
      code: FailureCode.CONTEXT_LENGTH_EXCEEDED,
      param: 'messages',
    });
  });

  it('rejects token ids outside the vocabulary as an invalid prompt', async () => {
    const { events, sink } = recorder();
    await runJob(
      job({ prompts: [{ kind: 'tokens', ids: [1, 99_999] }] }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    expect(events[0].failed).toMatchObject({
      code: FailureCode.INVALID_PROMPT,
      param: 'prompt',
    });
  });

  it('reports a cancel with the tokens generated before it', async () => {
    const { events, sink } = recorder();
    const abort = new AbortController();
    const cancelling = {
      send: (event: RequestEventMessage) => {
        sink.send(event);
        if (events.filter((e) => e.tokens).length === 3) abort.abort();
      },
    };
    await expect(
      runJob(
        job({
          sampling: { maxTokens: 40, n: 1, temperature: 0, topP: 1, stop: [] },
        }),
        generator,
        cancelling,
        'w1',
        abort.signal,
      ),
    ).rejects.toThrow();
    const failed = events.at(-1)?.failed;
    expect(failed?.code).toBe(FailureCode.CANCELLED);
    const framed = events.reduce((sum, e) => sum + (e.tokens?.tokens ?? 0), 0);
    expect(failed?.completionTokens).toBe(framed);
    expect(failed?.completionTokens).toBeLessThan(40);
  });

  it('carries logprobs on token frames when the job asks for them', async () => {
    const { events, sink } = recorder();
    await runJob(
      job({
        sampling: {
          maxTokens: 5,
          n: 1,
          temperature: 0,
          topP: 1,
          stop: [],
          logprobs: 2,
        },
      }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    const frames = events.flatMap((e) => (e.tokens ? [e.tokens] : []));
    const logprobs = frames.flatMap((f) => f.logprobs ?? []);
    expect(logprobs.length).toBeGreaterThan(0);
    for (const l of logprobs) {
      expect(l.bytes).toBeInstanceOf(Uint8Array);
      expect(l.topLogprobs).toHaveLength(2);
      expect(l.logprob).toBe(l.topLogprobs?.[0].logprob);
    }
  });

  it('runs the prompts of one job in the shared batch, together', async () => {
    const before = generator.scheduler.stats.decodeRows;
    const steps = generator.scheduler.stats.decodeSteps;
    const { events, sink } = recorder();
    await runJob(
      job({
        prompts: [
          { kind: 'text', text: 'One' },
          { kind: 'text', text: 'Two and three' },
        ],
        sampling: { maxTokens: 6, n: 1, temperature: 0, topP: 1, stop: [] },
      }),
      generator,
      sink,
      'w1',
      new AbortController().signal,
    );
    expect(events.at(-1)?.finished?.completionTokens).toBe(12);
    expect(generator.scheduler.stats.decodeRows - before).toBe(
      2 * (generator.scheduler.stats.decodeSteps - steps),
    );
  });
});
