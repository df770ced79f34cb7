import { InferenceError } from '../inference-error';
import { EmbeddingBatcher, type EmbeddingRun } from './embedding-batcher';

/** A model run that records its batches and gives each input a vector of its first id. */
function recordingRun(): EmbeddingRun & { batches: number[][][] } {
  const batches: number[][][] = [];
  const run = async (inputs: readonly (readonly number[])[]) => {
    batches.push(inputs.map((ids) => [...ids]));
    return inputs.map((ids) => Float32Array.of(ids[0]));
  };
  return Object.assign(run, { batches });
}

describe('EmbeddingBatcher', () => {
  it('fills in the default batching', () => {
    expect(new EmbeddingBatcher(recordingRun()).batching).toEqual({
      maxBatchSize: 32,
      maxDelayMs: 2,
      maxBatchTokens: 16384,
    });
  });

  it('gathers inputs queued within the window into one run and gives each its own vector', async () => {
    const run = recordingRun();
    const batcher = new EmbeddingBatcher(run, { maxDelayMs: 5 });
    const vectors = await Promise.all([
      batcher.add([1, 2]),
      batcher.add([3]),
      batcher.add([4, 5, 6]),
    ]);
    expect(run.batches).toEqual([[[1, 2], [3], [4, 5, 6]]]);
    expect(vectors.map((v) => v[0])).toEqual([1, 3, 4]);
  });

  it('starts a run as soon as maxBatchSize inputs wait, without waiting out the window', async () => {
    const run = recordingRun();
    const batcher = new EmbeddingBatcher(run, {
      maxBatchSize: 2,
      maxDelayMs: 60_000,
    });
    await Promise.all([batcher.add([1]), batcher.add([2])]);
    expect(run.batches).toEqual([[[1], [2]]]);
    batcher.stop();
  });

  it('caps a run at maxBatchTokens, padding included, and runs the rest next in order', async () => {
    const run = recordingRun();
    const batcher = new EmbeddingBatcher(run, {
      maxBatchTokens: 8,
      maxDelayMs: 1,
    });
    await Promise.all([
      batcher.add([1, 1]),
      batcher.add([2, 2, 2, 2]),
      batcher.add([3]),
    ]);
    // Two rows padded to 4 fill 8 tokens; a third row would make 12.
    expect(run.batches).toEqual([
      [
        [1, 1],
        [2, 2, 2, 2],
      ],
      [[3]],
    ]);
  });

  it('fails every input of a failed run with model_error, and passes an InferenceError on as it is', async () => {
    const failing = new EmbeddingBatcher(
      () => Promise.reject(new Error('out of memory')),
      { maxDelayMs: 1 },
    );
    const results = await Promise.allSettled([
      failing.add([1]),
      failing.add([2]),
    ]);
    for (const result of results)
      expect(result).toMatchObject({
        status: 'rejected',
        reason: {
          code: 'model_error',
          message: 'model run failed: out of memory',
        },
      });
    const own = new InferenceError('invalid_prompt', 'bad input', 'input');
    const passing = new EmbeddingBatcher(() => Promise.reject(own), {
      maxDelayMs: 1,
    });
    await expect(passing.add([1])).rejects.toBe(own);
  });

  it('runs one batch at a time: inputs queued during a run go in the next one', async () => {
    let release: () => void = () => undefined;
    const batches: number[][] = [];
    const batcher = new EmbeddingBatcher(
      async (inputs) => {
        batches.push(inputs.map((ids) => ids[0]));
        if (batches.length === 1)
          await new Promise<void>((resolve) => (release = resolve));
        return inputs.map((ids) => Float32Array.of(ids[0]));
      },
      { maxBatchSize: 1 },
    );
    const first = batcher.add([1]);
    const second = batcher.add([2]);
    const third = batcher.add([3]);
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, second, third]);
    expect(batches).toEqual([[1], [2], [3]]);
  });
});
