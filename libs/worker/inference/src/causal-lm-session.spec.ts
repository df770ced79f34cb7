import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeCausalLm,
  readGpt2Weights,
  referenceForward,
  type Gpt2Weights,
  type ReferencePast,
} from '@marquee/shared/model-maker';
import { CausalLmSession } from './causal-lm-session';
import { Sampler } from './sampler';

const ones = (batch: number, width: number) =>
  Array.from({ length: batch }, () => new Array<number>(width).fill(1));
const range = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => from + i);

function maxAbsDiff(actual: Float32Array, expected: Float64Array): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i++)
    max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

describe('CausalLmSession', () => {
  let root: string;
  let weights: Gpt2Weights;
  let session: CausalLmSession;
  const prompt = [5, 80, 300, 17, 42, 9, 250];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-session-'));
    const dir = join(root, 'fp32');
    makeCausalLm({
      out: dir,
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: 300 + 12,
      context: 64,
      dtype: 'fp32',
      seed: 11,
    });
    weights = readGpt2Weights(dir);
    session = await CausalLmSession.load(dir, { intraOpThreads: 1 });
  });

  afterAll(async () => {
    await session?.release();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads the KV cache layout from the model', () => {
    expect(session.kvLayout).toEqual({
      layers: 2,
      heads: 4,
      headDim: 16,
      dtype: 'float32',
    });
  });

  it('matches the reference forward pass at prefill and at every cached decode step within 1e-4', async () => {
    const pre = await session.forward({ inputIds: [prompt] });
    let ref = referenceForward(weights, [prompt], ones(1, prompt.length), [
      range(0, prompt.length),
    ]);
    expect(pre.logitsDims).toEqual([1, prompt.length, 312]);
    expect(maxAbsDiff(pre.logits, ref.logits)).toBeLessThan(1e-4);

    let cache = pre.present;
    let refPast: ReferencePast = ref.present;
    let token = Sampler.argmax(pre.logits.subarray((prompt.length - 1) * 312));
    for (let step = 0; step < 4; step++) {
      const position = prompt.length + step;
      const out = await session.forward({ inputIds: [[token]], past: cache });
      ref = referenceForward(
        weights,
        [[token]],
        ones(1, position + 1),
        [[position]],
        refPast,
      );
      expect(out.present.length).toBe(position + 1);
      expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(1e-4);
      cache = out.present;
      refPast = ref.present;
      token = Sampler.argmax(out.logits);
    }
  });

  it('decodes a prefill cache tiled to two rows as two independent sequences', async () => {
    const pre = await session.forward({ inputIds: [prompt] });
    const tiled = pre.present.selectRows([0, 0]);
    expect(tiled.batch).toBe(2);
    const out = await session.forward({ inputIds: [[7], [123]], past: tiled });
    const ref = referenceForward(
      weights,
      [prompt.concat(7), prompt.concat(123)],
      ones(2, prompt.length + 1),
      [range(0, prompt.length + 1), range(0, prompt.length + 1)],
    );
    const lastRows = new Float64Array(2 * 312);
    lastRows.set(
      ref.logits.subarray(prompt.length * 312, (prompt.length + 1) * 312),
      0,
    );
    lastRows.set(ref.logits.subarray((2 * prompt.length + 1) * 312), 312);
    expect(maxAbsDiff(out.logits, lastRows)).toBeLessThan(1e-4);

    const second = out.present.selectRows([1]);
    const next = await session.forward({ inputIds: [[55]], past: second });
    const refNext = referenceForward(
      weights,
      [prompt.concat(123, 55)],
      ones(1, prompt.length + 2),
      [range(0, prompt.length + 2)],
    );
    expect(
      maxAbsDiff(
        next.logits,
        refNext.logits.subarray((prompt.length + 1) * 312),
      ),
    ).toBeLessThan(1e-4);
  });

  it('returns only the last position when asked', async () => {
    const all = await session.forward({ inputIds: [prompt] });
    const last = await session.forward({ inputIds: [prompt] }, true);
    expect(last.logitsDims).toEqual([1, 1, 312]);
    expect(Array.from(last.logits)).toEqual(
      Array.from(all.logits.subarray((prompt.length - 1) * 312)),
    );
  });

  it('runs an fp16 model and widens its logits to fp32 close to the reference', async () => {
    const dir = join(root, 'fp16');
    makeCausalLm({
      out: dir,
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: 312,
      context: 64,
      dtype: 'fp16',
      seed: 11,
    });
    const half = await CausalLmSession.load(dir, { intraOpThreads: 1 });
    try {
      expect(half.kvLayout.dtype).toBe('float16');
      const pre = await half.forward({ inputIds: [prompt] });
      const step = await half.forward({ inputIds: [[3]], past: pre.present });
      const ref = referenceForward(
        readGpt2Weights(dir),
        [prompt.concat(3)],
        ones(1, prompt.length + 1),
        [range(0, prompt.length + 1)],
      );
      expect(step.logits).toBeInstanceOf(Float32Array);
      expect(
        maxAbsDiff(step.logits, ref.logits.subarray(prompt.length * 312)),
      ).toBeLessThan(2e-2);
    } finally {
      await half.release();
    }
  });
});
