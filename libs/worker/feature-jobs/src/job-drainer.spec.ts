import {
  FailureCode,
  type RequestEventMessage,
} from '@marquee/contracts/proto';
import type { InferenceJob } from '@marquee/contracts/queue';
import { WorkerMetrics } from '@marquee/shared/util-observability';
import { JobDrainer } from './job-drainer';

function job(requestId: string): InferenceJob {
  return {
    requestId,
    tenantId: 't',
    apiKeyId: 'k',
    model: 'tiny',
    endpoint: 'completions',
    prompts: [{ kind: 'text', text: 'x' }],
    sampling: { maxTokens: 4, n: 1, temperature: 0, topP: 1, stop: [] },
    replyTo: { gatewayId: 'g', address: '127.0.0.1:1' },
    enqueuedAt: Date.now() - 250,
  } as InferenceJob;
}

const failed = (requestId: string): RequestEventMessage => ({
  requestId,
  failed: {
    code: FailureCode.CANCELLED,
    message: 'aborted',
    param: '',
    promptTokens: 3,
    completionTokens: 2,
  },
});

describe('JobDrainer', () => {
  it('hands back a job that streamed nothing yet, and keeps its failure from the gateway', () => {
    const sent: RequestEventMessage[] = [];
    const drainer = new JobDrainer();
    const abort = new AbortController();
    const tracked = drainer.track(job('a'), abort, {
      send: (e) => void sent.push(e),
    });
    tracked.sink.send({
      requestId: 'a',
      started: { workerId: 'w', promptTokens: 3 },
    });

    expect(drainer.abortAll()).toEqual({ handedBack: 1, lost: 0 });
    expect(abort.signal.aborted).toBe(true);
    tracked.sink.send(failed('a'));
    expect(tracked.handedBack).toBe(true);
    expect(
      sent.map((e) => Object.keys(e).filter((k) => k !== 'requestId')),
    ).toEqual([['started']]);
  });

  it('ends a job that already streamed as worker_lost, with its tokens', () => {
    const sent: RequestEventMessage[] = [];
    const drainer = new JobDrainer();
    const tracked = drainer.track(job('b'), new AbortController(), {
      send: (e) => void sent.push(e),
    });
    tracked.sink.send({
      requestId: 'b',
      tokens: { choiceIndex: 0, text: 'hi', tokens: 2 },
    });

    expect(drainer.abortAll()).toEqual({ handedBack: 0, lost: 1 });
    tracked.sink.send(failed('b'));
    expect(tracked.handedBack).toBe(false);
    expect(sent.at(-1)?.failed).toMatchObject({
      code: FailureCode.WORKER_LOST,
      completionTokens: 2,
    });
  });

  it('counts queue wait, tokens and outcomes in the worker metrics', async () => {
    const metrics = new WorkerMetrics();
    const drainer = new JobDrainer(metrics);
    const tracked = drainer.track(job('c'), new AbortController(), {
      send: () => undefined,
    });
    tracked.sink.send({
      requestId: 'c',
      tokens: { choiceIndex: 0, text: 'hi', tokens: 3 },
    });
    tracked.sink.send({
      requestId: 'c',
      finished: { promptTokens: 1, completionTokens: 3, choices: [] },
    });
    tracked.done();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /marquee_worker_tokens_generated_total\{[^}]*model="tiny"[^}]*\} 3/,
    );
    expect(text).toMatch(
      /marquee_worker_jobs_total\{[^}]*model="tiny",outcome="completed"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /marquee_queue_wait_seconds_count\{[^}]*model="tiny"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /marquee_worker_active_sequences\{[^}]*model="tiny"[^}]*\} 0/,
    );
  });
});
