import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeCausalLm,
  readGpt2Weights,
  referenceForward,
} from '@marquee/shared/model-maker';
import { BatchScheduler, type BatchModel } from './batch-scheduler';
import { CausalLmSession } from './causal-lm-session';
import { ChoiceStream } from './choice-stream';
import type { ConstraintMatcher } from './grammar';
import { InferenceError } from './inference-error';
import type { ChoiceDelta, GenerationParams } from './types';

const VOCAB = 312;

/** A choice that keeps a copy of every row of logits it sampled from. */
class RecordingChoice extends ChoiceStream {
  readonly seen: Float32Array[] = [];
  override sample(logits: Float32Array): number {
    this.seen.push(Float32Array.from(logits));
    return super.sample(logits);
  }
}

const params = (
  maxTokens: number,
  extra: Partial<GenerationParams> = {},
): GenerationParams => ({
  maxTokens,
  n: 1,
  temperature: 0,
  topP: 1,
  stop: [],
  ...extra,
});

function choices(prompt: number[], p: GenerationParams): RecordingChoice[] {
  return Array.from(
    { length: p.n },
    (_, index) =>
      new RecordingChoice({
        index,
        params: p,
        decode: (ids) => ids.map((id) => `<${id}>`).join(''),
        eosTokenIds: new Set(),
        promptTokenIds: prompt,
      }),
  );
}

const prompt = (length: number, salt: number) =>
  Array.from({ length }, (_, i) => (i * 37 + salt * 11 + 5) % 300);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('BatchScheduler', () => {
  let root: string;
  let dir: string;
  let session: CausalLmSession;
  /** Batch sizes and padded widths of every model run, as the model saw them. */
  let runs: { rows: number; seq: number; width: number; padded: boolean }[];
  let model: BatchModel;
  /** A model with room for long prompts (context 256). */
  let longSession: CausalLmSession;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-scheduler-'));
    dir = join(root, 'm');
    makeCausalLm({
      out: dir,
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: VOCAB,
      context: 64,
      seed: 21,
    });
    session = await CausalLmSession.load(dir, { intraOpThreads: 1 });
    makeCausalLm({
      out: join(root, 'long'),
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: VOCAB,
      context: 256,
      seed: 22,
    });
    longSession = await CausalLmSession.load(join(root, 'long'), {
      intraOpThreads: 1,
    });
    model = {
      kvLayout: session.kvLayout,
      forward: (input, last) => {
        runs.push({
          rows: input.inputIds.length,
          seq: input.inputIds[0]?.length ?? 0,
          width: input.attentionMask?.[0]?.length ?? 0,
          padded: (input.attentionMask ?? []).some((row) => row.includes(0)),
        });
        return session.forward(input, last);
      },
    };
  });

  beforeEach(() => {
    runs = [];
  });

  afterAll(async () => {
    await session?.release();
    await longSession?.release();
    rmSync(root, { recursive: true, force: true });
  });

  /** The logits of each step of one sequence run alone: batch 1, no padding. */
  async function alone(
    ids: number[],
    generated: number[],
  ): Promise<Float32Array[]> {
    const rows: Float32Array[] = [];
    let out = await session.forward({ inputIds: [ids] }, true);
    rows.push(out.logits);
    for (const token of generated.slice(0, -1)) {
      out = await session.forward(
        { inputIds: [[token]], past: out.present },
        true,
      );
      rows.push(out.logits);
    }
    return rows;
  }

  it('gives every sequence of a batch the logits it gets alone, with different lengths joining mid-run and leaving early', async () => {
    const scheduler = new BatchScheduler(model, 64);
    const specs = [
      { ids: prompt(3, 1), max: 12 },
      { ids: prompt(9, 2), max: 4 },
      { ids: prompt(14, 3), max: 9 },
      { ids: prompt(5, 4), max: 7 },
      { ids: prompt(20, 5), max: 3 },
    ];
    const made = specs.map((s) => choices(s.ids, params(s.max)));
    const submit = (
      i: number,
      onDelta: (d: ChoiceDelta[]) => void = () => undefined,
    ) =>
      scheduler.submit({
        promptTokenIds: specs[i].ids,
        choices: made[i],
        maxTokens: specs[i].max,
        onDelta,
      });
    // 0 and 1 start together; 2 joins at 0's third step, 3 and 4 at its sixth.
    const later: Promise<unknown>[] = [];
    let steps = 0;
    const first = submit(0, () => {
      steps++;
      if (steps === 3) later.push(submit(2));
      if (steps === 6) later.push(submit(3), submit(4));
    });
    const results = await Promise.all([first, submit(1)]);
    await Promise.all(later);

    expect(results[1].choices[0].completionTokens).toBe(4);
    expect(runs.some((r) => r.rows >= 3 && r.padded)).toBe(true);
    expect(scheduler.stats.decodeRows).toBeGreaterThan(
      scheduler.stats.decodeSteps,
    );
    for (const [i, spec] of specs.entries()) {
      const choice = made[i][0];
      expect(choice.completionTokens).toBe(spec.max);
      const expected = await alone(spec.ids, [...choice.tokenIds]);
      expect(choice.seen).toHaveLength(expected.length);
      choice.seen.forEach((row, step) =>
        expect(maxAbsDiff(row, expected[step])).toBeLessThan(1e-4),
      );
    }
    // And the anchor: the last step of the longest-lived sequence against the float64 reference.
    const ids = [...specs[0].ids, ...made[0][0].tokenIds.slice(0, -1)];
    const ref = referenceForward(
      readGpt2Weights(dir),
      [ids],
      [ids.map(() => 1)],
      [ids.map((_, p) => p)],
    );
    expect(
      maxAbsDiff(
        made[0][0].seen.at(-1) as Float32Array,
        ref.logits.subarray((ids.length - 1) * VOCAB),
      ),
    ).toBeLessThan(1e-4);
  });

  it('prefills a prompt longer than maxPrefillTokens in chunks between decode steps, with the logits it gets alone', async () => {
    const scheduler = new BatchScheduler(model, 64, { maxPrefillTokens: 8 });
    const short = prompt(3, 1);
    const long = prompt(30, 2);
    const shortChoice = choices(short, params(20));
    const longChoice = choices(long, params(5));
    let later: Promise<unknown> | undefined;
    let steps = 0;
    const first = scheduler.submit({
      promptTokenIds: short,
      choices: shortChoice,
      maxTokens: 20,
      onDelta: () => {
        if (++steps === 2)
          later = scheduler.submit({
            promptTokenIds: long,
            choices: longChoice,
            maxTokens: 5,
            onDelta: () => undefined,
          });
      },
    });
    await first;
    await later;

    // The long prompt went in as four chunks (8 + 8 + 8 + 6 tokens over a growing past), and the
    // running sequence decoded between every two of them.
    const chunks = runs
      .map((r, i) => ({ ...r, i }))
      .filter((r) => r.seq > 1 && r.width > 3);
    expect(chunks.map((r) => [r.seq, r.width])).toEqual([
      [8, 8],
      [8, 16],
      [8, 24],
      [6, 30],
    ]);
    for (let c = 1; c < chunks.length; c++)
      expect(
        runs.slice(chunks[c - 1].i + 1, chunks[c].i).some((r) => r.seq === 1),
      ).toBe(true);
    expect(scheduler.stats.prefillChunks).toBe(scheduler.stats.prefills + 3);

    for (const [ids, made] of [
      [long, longChoice[0]],
      [short, shortChoice[0]],
    ] as const) {
      const expected = await alone(ids, [...made.tokenIds]);
      expect(made.seen).toHaveLength(expected.length);
      made.seen.forEach((row, step) =>
        expect(maxAbsDiff(row, expected[step])).toBeLessThan(1e-4),
      );
    }
  });

  it('decodes sequences of very different lengths in separate runs, each with the logits it gets alone', async () => {
    const seen: { rows: number; width: number }[] = [];
    const scheduler = new BatchScheduler(
      {
        kvLayout: longSession.kvLayout,
        forward: (input, last) => {
          if (input.inputIds[0]?.length === 1)
            seen.push({
              rows: input.inputIds.length,
              width: input.attentionMask?.[0]?.length ?? 0,
            });
          return longSession.forward(input, last);
        },
      },
      256,
    );
    const specs = [
      { ids: prompt(3, 1), max: 24 },
      { ids: prompt(5, 2), max: 24 },
      { ids: prompt(200, 3), max: 6 },
    ];
    const made = specs.map((s) => choices(s.ids, params(s.max)));
    const submit = (i: number, onDelta: () => void = () => undefined) =>
      scheduler.submit({
        promptTokenIds: specs[i].ids,
        choices: made[i],
        maxTokens: specs[i].max,
        onDelta,
      });
    let steps = 0;
    let long: Promise<unknown> | undefined;
    await Promise.all([
      submit(0, () => {
        if (++steps === 4) long = submit(2);
      }),
      submit(1),
    ]);
    await long;

    // While the long sequence ran, the short two stepped together in their own narrow run.
    const wide = seen.filter((r) => r.width > 200);
    expect(wide).toHaveLength(specs[2].max - 1);
    expect(wide.every((r) => r.rows === 1)).toBe(true);
    expect(seen.every((r) => r.width > 200 || r.width <= 30)).toBe(true);
    expect(seen.filter((r) => r.rows === 2).length).toBeGreaterThanOrEqual(
      specs[0].max - 1,
    );
    for (const [i, spec] of specs.entries()) {
      const choice = made[i][0];
      expect(choice.completionTokens).toBe(spec.max);
      const rows: Float32Array[] = [];
      let out = await longSession.forward({ inputIds: [spec.ids] }, true);
      rows.push(out.logits);
      for (const token of choice.tokenIds.slice(0, -1)) {
        out = await longSession.forward(
          { inputIds: [[token]], past: out.present },
          true,
        );
        rows.push(out.logits);
      }
      choice.seen.forEach((row, step) =>
        expect(maxAbsDiff(row, rows[step])).toBeLessThan(1e-4),
      );
    }
  });

  it('fails only the requests of a length group whose run fails; the other group decodes on', async () => {
    const scheduler = new BatchScheduler(
      {
        kvLayout: longSession.kvLayout,
        forward: (input, last) => {
          const width = input.attentionMask?.[0]?.length ?? 0;
          if (input.inputIds[0]?.length === 1 && width > 150)
            return Promise.reject(new Error('device lost'));
          return longSession.forward(input, last);
        },
      },
      256,
    );
    const run = (ids: number[], max: number) =>
      scheduler
        .submit({
          promptTokenIds: ids,
          choices: choices(ids, params(max)),
          maxTokens: max,
          onDelta: () => undefined,
        })
        .catch((e: unknown) => e);
    const [short, long, other] = await Promise.all([
      run(prompt(4, 1), 10),
      run(prompt(180, 2), 10),
      run(prompt(6, 3), 10),
    ]);
    expect(long).toMatchObject({ code: 'model_error' });
    expect(short).toMatchObject({ completionTokens: 10 });
    expect(other).toMatchObject({ completionTokens: 10 });
    expect(scheduler.load).toEqual({
      running: 0,
      waiting: 0,
      reservedTokens: 0,
    });
  });

  it('lets a short prompt that arrives during a long chunked prefill go between its chunks', async () => {
    const long = prompt(40, 5);
    const short = prompt(3, 6);
    const longChoice = choices(long, params(3));
    const shortChoice = choices(short, params(3));
    const events: string[] = [];
    let later: Promise<unknown> | undefined;
    const scheduler = new BatchScheduler(
      {
        kvLayout: model.kvLayout,
        forward: (input, last) => {
          const seq = input.inputIds[0]?.length ?? 0;
          const width = input.attentionMask?.[0]?.length ?? 0;
          events.push(`run ${seq}/${width}`);
          if (width === 8 && seq === 8)
            later = scheduler.submit({
              promptTokenIds: short,
              choices: shortChoice,
              maxTokens: 3,
              onDelta: () => events.push('short token'),
            });
          return model.forward(input, last);
        },
      },
      64,
      { maxPrefillTokens: 8 },
    );
    await scheduler.submit({
      promptTokenIds: long,
      choices: longChoice,
      maxTokens: 3,
      onDelta: () => events.push('long token'),
    });
    await later;

    // The short prompt's prefill ran right after the long one's first chunk (then its decode
    // step), and the long prompt's next chunk came after it.
    expect(events.slice(0, 6)).toEqual([
      'run 8/8',
      'run 3/3',
      'short token',
      'run 1/4',
      'short token',
      'run 8/16',
    ]);
    expect(events.indexOf('short token')).toBeLessThan(
      events.indexOf('run 8/40'),
    );
    for (const [ids, made] of [
      [long, longChoice[0]],
      [short, shortChoice[0]],
    ] as const) {
      const expected = await alone(ids, [...made.tokenIds]);
      made.seen.forEach((row, step) =>
        expect(maxAbsDiff(row, expected[step])).toBeLessThan(1e-4),
      );
    }
  });

  it('ends a request cancelled during its chunked prefill at once, with nothing generated', async () => {
    const controller = new AbortController();
    let chunksSeen = 0;
    const counting: BatchModel = {
      kvLayout: model.kvLayout,
      forward: (input, last) => {
        if ((input.inputIds[0]?.length ?? 0) > 1 && ++chunksSeen === 2)
          controller.abort();
        return model.forward(input, last);
      },
    };
    const cancelling = new BatchScheduler(counting, 64, {
      maxPrefillTokens: 4,
    });
    const error = (await cancelling
      .submit({
        promptTokenIds: prompt(40, 3),
        choices: choices(prompt(40, 3), params(5)),
        maxTokens: 5,
        signal: controller.signal,
        onDelta: () => undefined,
      })
      .catch((e: unknown) => e)) as InferenceError;
    expect(error).toBeInstanceOf(InferenceError);
    expect(error.code).toBe('cancelled');
    expect(error.partial?.completionTokens).toBe(0);
    expect(chunksSeen).toBe(2);
    expect(cancelling.load).toEqual({
      running: 0,
      waiting: 0,
      reservedTokens: 0,
    });
    // The scheduler is free for the next request.
    const next = await cancelling.submit({
      promptTokenIds: prompt(5, 4),
      choices: choices(prompt(5, 4), params(3)),
      maxTokens: 3,
      onDelta: () => undefined,
    });
    expect(next.completionTokens).toBe(3);
  });

  it('gives the same seeded output batched as alone', async () => {
    const sampled = (seed: number) =>
      params(10, {
        temperature: 0.9,
        topP: 0.95,
        topK: 50,
        seed,
        n: 2,
        presencePenalty: 0.5,
      });
    const prompts = [prompt(4, 7), prompt(11, 8), prompt(2, 9), prompt(16, 10)];
    const solo: string[][] = [];
    for (const [i, ids] of prompts.entries()) {
      const scheduler = new BatchScheduler(model, 64);
      const result = await scheduler.submit({
        promptTokenIds: ids,
        choices: choices(ids, sampled(100 + i)),
        maxTokens: 10,
        onDelta: () => undefined,
      });
      solo.push(result.choices.map((c) => c.text));
    }
    runs = [];
    const scheduler = new BatchScheduler(model, 64);
    const batched = await Promise.all(
      prompts.map((ids, i) =>
        scheduler.submit({
          promptTokenIds: ids,
          choices: choices(ids, sampled(100 + i)),
          maxTokens: 10,
          onDelta: () => undefined,
        }),
      ),
    );
    expect(Math.max(...runs.map((r) => r.rows))).toBe(8);
    expect(batched.map((r) => r.choices.map((c) => c.text))).toEqual(solo);
  });

  it('never runs more sequences than max batch size or the KV budget allows, and still serves every request', async () => {
    const bytesPerToken = 2 * 2 * 4 * 16 * 4;
    // Room for the worst case of three 4+6-token sequences, not four.
    const scheduler = new BatchScheduler(model, 64, {
      maxBatchSize: 4,
      kvBudgetBytes: 3 * 10 * bytesPerToken,
    });
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) => {
        const ids = prompt(4, i);
        return scheduler.submit({
          promptTokenIds: ids,
          choices: choices(ids, params(6)),
          maxTokens: 6,
          onDelta: () => undefined,
        });
      }),
    );
    expect(results.every((r) => r.completionTokens === 6)).toBe(true);
    expect(Math.max(...runs.map((r) => r.rows))).toBe(3);
    expect(scheduler.load).toEqual({
      running: 0,
      waiting: 0,
      reservedTokens: 0,
    });

    await expect(
      scheduler.submit({
        promptTokenIds: prompt(4, 1),
        choices: choices(prompt(4, 1), params(40)),
        maxTokens: 40,
        onDelta: () => undefined,
      }),
    ).rejects.toMatchObject({
      code: 'context_length_exceeded',
      param: 'max_tokens',
    });
  });

  it('gives back nothing it did not reserve when a waiting request is cancelled', async () => {
    const scheduler = new BatchScheduler(model, 64, { maxBatchSize: 1 });
    const controller = new AbortController();
    const running = scheduler.submit({
      promptTokenIds: prompt(4, 1),
      choices: choices(prompt(4, 1), params(8)),
      maxTokens: 8,
      onDelta: () => controller.abort(),
    });
    const waiting = scheduler
      .submit({
        promptTokenIds: prompt(4, 2),
        choices: choices(prompt(4, 2), params(4)),
        maxTokens: 4,
        signal: controller.signal,
        onDelta: () => undefined,
      })
      .catch((e: unknown) => e);
    expect(((await waiting) as InferenceError).code).toBe('cancelled');
    expect((await running).completionTokens).toBe(8);
    expect(scheduler.load).toEqual({
      running: 0,
      waiting: 0,
      reservedTokens: 0,
    });
  });

  it('ends a cancelled request with its partial result while the others run to the end', async () => {
    const scheduler = new BatchScheduler(model, 64);
    const controller = new AbortController();
    let streamed = 0;
    const cancelled = scheduler
      .submit({
        promptTokenIds: prompt(6, 1),
        choices: choices(prompt(6, 1), params(30, { n: 2 })),
        maxTokens: 30,
        signal: controller.signal,
        onDelta: (deltas) => {
          streamed += deltas.length;
          if (streamed >= 6) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    const other = scheduler.submit({
      promptTokenIds: prompt(3, 2),
      choices: choices(prompt(3, 2), params(12)),
      maxTokens: 12,
      onDelta: () => undefined,
    });
    const error = (await cancelled) as InferenceError;
    expect(error).toBeInstanceOf(InferenceError);
    expect(error.code).toBe('cancelled');
    expect(error.partial?.completionTokens).toBe(streamed);
    expect((await other).completionTokens).toBe(12);
  });

  it('fails only the request whose grammar fails, at prefill or mid-decode; the rest of the batch runs on', async () => {
    const scheduler = new BatchScheduler(model, 64);
    /** A grammar that allows anything until its `failAt`-th mask, which throws. */
    const failing = (failAt: number) => {
      let masks = 0;
      return {
        prepare: async () => {
          if (++masks === failAt) throw new Error('grammar broke');
        },
        apply: () => undefined,
        accept: () => undefined,
        dispose: () => undefined,
      } as unknown as ConstraintMatcher;
    };
    const constrained = (ids: number[], failAt: number) =>
      new ChoiceStream({
        index: 0,
        params: params(8),
        decode: (t) => t.join(','),
        eosTokenIds: new Set(),
        promptTokenIds: ids,
        constraint: failing(failAt),
      });
    const free = prompt(6, 7);
    const submit = (ids: number[], made: ChoiceStream[]) =>
      scheduler.submit({
        promptTokenIds: ids,
        choices: made,
        maxTokens: 8,
        onDelta: () => undefined,
      });
    const [atPrefill, midDecode, untouched] = await Promise.allSettled([
      submit(prompt(5, 1), [constrained(prompt(5, 1), 1)]),
      submit(prompt(5, 2), [constrained(prompt(5, 2), 4)]),
      submit(free, choices(free, params(8))),
    ]);
    expect(atPrefill).toMatchObject({
      status: 'rejected',
      reason: { code: 'model_error', message: 'grammar broke' },
    });
    expect(midDecode).toMatchObject({
      status: 'rejected',
      reason: { code: 'model_error', message: 'grammar broke' },
    });
    expect(untouched).toMatchObject({
      status: 'fulfilled',
      value: { completionTokens: 8 },
    });
  });
});
