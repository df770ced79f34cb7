import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeEncoder,
  readEncoderWeights,
  referenceEmbedding,
} from '@marquee/shared/model-maker';
import { Embedder } from './embedder';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('Embedder', () => {
  let root: string;
  let dir: string;
  let embedder: Embedder;
  const texts = [
    'A heist film set in Lisbon',
    'The director',
    'Two rival studios race to finish the same monster movie before the festival opens',
    'Noir',
  ];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-embedder-'));
    dir = join(root, 'enc');
    makeEncoder({
      out: dir,
      name: 'enc',
      layers: 2,
      hidden: 32,
      heads: 4,
      vocab: 300,
      context: 64,
      seed: 8,
    });
    embedder = await Embedder.load(dir, {
      intraOpThreads: 1,
      batching: { maxBatchSize: 8, maxDelayMs: 5 },
    });
  });

  afterAll(async () => {
    await embedder?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('returns unit vectors equal to the float64 reference of mean pooling over the encoder', async () => {
    const weights = readEncoderWeights(dir, 4);
    const ids = texts.map((t) => embedder.encode(t));
    const vectors = await embedder.embed(ids);
    expect(embedder.dimensions).toBe(32);
    vectors.forEach((v, i) => {
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      expect(maxAbsDiff(v, referenceEmbedding(weights, ids[i]))).toBeLessThan(
        1e-4,
      );
    });
  });

  it('gives each input of a dynamic batch the vector it gets alone', async () => {
    const ids = texts.map((t) => embedder.encode(t));
    const alone: Float32Array[] = [];
    for (const one of ids) alone.push((await embedder.embed([one]))[0]);
    const runsBefore = embedder.stats.runs;
    // Separate concurrent calls, different lengths: one padded run.
    const together = await Promise.all(ids.map((one) => embedder.embed([one])));
    expect(embedder.stats.runs - runsBefore).toBe(1);
    together.forEach(([v], i) =>
      expect(maxAbsDiff(v, alone[i])).toBeLessThan(1e-5),
    );
  });

  it('splits a request larger than the max batch into several runs, keeping the order', async () => {
    const ids = Array.from({ length: 19 }, (_, i) =>
      embedder.encode(`${texts[i % 4]} ${i}`),
    );
    const runsBefore = embedder.stats.runs;
    const vectors = await embedder.embed(ids);
    expect(embedder.stats.runs - runsBefore).toBe(3);
    const again = await embedder.embed([ids[13]]);
    expect(maxAbsDiff(vectors[13], again[0])).toBeLessThan(1e-5);
  });

  it('rejects empty, too long and out-of-vocabulary inputs naming input', async () => {
    await expect(embedder.embed([[]])).rejects.toMatchObject({
      code: 'invalid_prompt',
      param: 'input',
    });
    await expect(
      embedder.embed([new Array<number>(65).fill(1)]),
    ).rejects.toMatchObject({ code: 'invalid_prompt' });
    await expect(embedder.embed([[300]])).rejects.toMatchObject({
      code: 'invalid_prompt',
    });
  });
});
