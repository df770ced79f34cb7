import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FailureCode,
  type RequestEventMessage,
  unpackFloat32,
} from '@marquee/contracts/proto';
import type { EmbeddingJob } from '@marquee/contracts/queue';
import { makeEncoder } from '@marquee/shared/model-maker';
import { Embedder } from '@marquee/worker/inference';
import { runEmbeddingJob } from './run-embedding-job';

function job(overrides: Partial<EmbeddingJob> = {}): EmbeddingJob {
  return {
    kind: 'embedding',
    requestId: 'req_embed',
    tenantId: 't',
    apiKeyId: 'k',
    model: 'enc',
    inputs: [
      { kind: 'text', text: 'A heist in Lisbon' },
      { kind: 'tokens', ids: [5, 6, 7] },
    ],
    replyTo: { gatewayId: 'g', address: '127.0.0.1:1' },
    enqueuedAt: 0,
    ...overrides,
  };
}

describe('runEmbeddingJob', () => {
  let root: string;
  let embedder: Embedder;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-embed-job-'));
    makeEncoder({
      out: join(root, 'enc'),
      name: 'enc',
      layers: 1,
      hidden: 16,
      heads: 2,
      vocab: 300,
      context: 32,
    });
    embedder = await Embedder.load(join(root, 'enc'), { intraOpThreads: 1 });
  });

  afterAll(async () => {
    await embedder?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs and bills nothing for a job cancelled before its model run', async () => {
    const events: RequestEventMessage[] = [];
    const billed: unknown[] = [];
    const abort = new AbortController();
    abort.abort();
    await runEmbeddingJob(
      job(),
      embedder,
      { send: (e) => void events.push(e) },
      'w1',
      async (usage) => void billed.push(usage),
      abort.signal,
    );
    expect(events).toHaveLength(1);
    expect(events[0].failed).toMatchObject({
      code: FailureCode.CANCELLED,
      promptTokens: 0,
    });
    expect(billed).toEqual([]);
  });

  it('reports started then one packed unit vector per input, billing the input tokens', async () => {
    const events: RequestEventMessage[] = [];
    await runEmbeddingJob(
      job(),
      embedder,
      { send: (e) => void events.push(e) },
      'w1',
    );
    expect(
      events.map((e) => Object.keys(e).find((k) => k !== 'requestId')),
    ).toEqual(['started', 'finished']);
    const finished = events[1].finished;
    const tokens = embedder.encode('A heist in Lisbon').length + 3;
    expect(finished?.promptTokens).toBe(tokens);
    expect(events[0].started?.promptTokens).toBe(tokens);
    expect(finished?.embeddings?.map((e) => e.index)).toEqual([0, 1]);
    const vector = unpackFloat32(
      finished?.embeddings?.[1].data ?? new Uint8Array(),
    );
    expect(vector).toHaveLength(16);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    const [alone] = await embedder.embed([[5, 6, 7]]);
    expect(Array.from(vector)).toEqual(Array.from(alone));
  });

  it('refuses other dimensions and bad inputs before starting, naming the parameter', async () => {
    const events: RequestEventMessage[] = [];
    const sink = { send: (e: RequestEventMessage) => void events.push(e) };
    await runEmbeddingJob(job({ dimensions: 8 }), embedder, sink, 'w1');
    await runEmbeddingJob(
      job({ inputs: [{ kind: 'tokens', ids: [999] }] }),
      embedder,
      sink,
      'w1',
    );
    expect(events.map((e) => e.failed?.param)).toEqual(['dimensions', 'input']);
    expect(
      events.every((e) => e.failed?.code === FailureCode.INVALID_PROMPT),
    ).toBe(true);
  });
});
