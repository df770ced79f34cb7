import { BatchScheduler } from './batch-scheduler';
import { ChoiceStream } from './choice-stream';
import { ECHO_NO_MASS_LOGIT, EchoSession } from './echo-session';
import type { GenerationParams, SchedulerLimits } from './types';

const VOCAB = 300;

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

const prompt = (length: number, salt: number) =>
  Array.from({ length }, (_, i) => (i * 37 + salt * 11 + 5) % VOCAB);

/** The echo of `ids`: token `i` is `ids[i mod length]`. */
const echoOf = (ids: readonly number[], count: number) =>
  Array.from({ length: count }, (_, i) => ids[i % ids.length]);

function choicesFor(ids: number[], p: GenerationParams): ChoiceStream[] {
  return Array.from(
    { length: p.n },
    (_, index) =>
      new ChoiceStream({
        index,
        params: p,
        decode: (tokens) => tokens.map((id) => `<${id}>`).join(''),
        eosTokenIds: new Set([VOCAB - 1]),
        promptTokenIds: ids,
      }),
  );
}

async function echo(
  scheduler: BatchScheduler,
  ids: number[],
  p: GenerationParams,
) {
  const choices = choicesFor(ids, p);
  const result = await scheduler.submit({
    promptTokenIds: ids,
    choices,
    maxTokens: p.maxTokens,
    onDelta: () => undefined,
  });
  return { result, tokens: choices.map((c) => [...c.tokenIds]) };
}

describe('EchoSession', () => {
  const session = new EchoSession(VOCAB);
  const scheduler = (limits: Partial<SchedulerLimits> = {}) =>
    new BatchScheduler(session, 4096, limits);

  it('puts all the mass of a prefill on the prompt’s first token', async () => {
    const out = await session.forward({ inputIds: [[7, 8, 9]] }, true);
    expect(out.logitsDims).toEqual([1, 1, VOCAB]);
    expect(out.logits[7]).toBe(0);
    expect(out.logits.filter((l) => l === ECHO_NO_MASS_LOGIT).length).toBe(
      VOCAB - 1,
    );
    expect(out.present.length).toBe(3);
  });

  it('refuses to compute every position’s logits', async () => {
    await expect(session.forward({ inputIds: [[1]] })).rejects.toThrow(
      RangeError,
    );
  });

  it('echoes the prompt’s tokens in order, cycling, and stops at max_tokens', async () => {
    const ids = prompt(5, 1);
    const { result, tokens } = await echo(scheduler(), ids, params(12));
    expect(tokens).toEqual([echoOf(ids, 12)]);
    expect(result).toMatchObject({
      promptTokens: 5,
      completionTokens: 12,
      choices: [{ finishReason: 'length', completionTokens: 12 }],
    });
  });

  it('echoes a one-token prompt as that token repeated', async () => {
    const { tokens } = await echo(scheduler(), [42], params(4));
    expect(tokens).toEqual([[42, 42, 42, 42]]);
  });

  it('gives every one of n sampled choices the same echo, at any temperature and seed', async () => {
    const ids = prompt(6, 2);
    const { result, tokens } = await echo(
      scheduler(),
      ids,
      params(9, { n: 3, temperature: 1.7, topP: 0.9, topK: 5, seed: 11 }),
    );
    expect(tokens).toEqual([echoOf(ids, 9), echoOf(ids, 9), echoOf(ids, 9)]);
    expect(result.completionTokens).toBe(27);
  });

  it('echoes each request’s own prompt when requests of very different lengths share the batch', async () => {
    // Short and long sequences decode in separate length groups and regroup as they finish; a
    // 40-token prompt is prefilled in chunks of 8, taking turns with the short prompts.
    const s = scheduler({ maxPrefillTokens: 8, freePaddingTokens: 2 });
    const specs = [
      { ids: prompt(40, 3), max: 30 },
      { ids: prompt(3, 4), max: 10 },
      { ids: prompt(7, 5), max: 25 },
      { ids: prompt(1, 6), max: 5 },
      { ids: prompt(12, 7), max: 17 },
    ];
    const runs = await Promise.all(
      specs.map(({ ids, max }) => echo(s, ids, params(max, { n: 2 }))),
    );
    runs.forEach(({ tokens, result }, i) => {
      const { ids, max } = specs[i];
      expect(tokens).toEqual([echoOf(ids, max), echoOf(ids, max)]);
      expect(result.promptTokens).toBe(ids.length);
      expect(result.completionTokens).toBe(2 * max);
    });
    expect(s.stats.prefillChunks).toBeGreaterThan(5);
    expect(s.load).toEqual({ running: 0, waiting: 0, reservedTokens: 0 });
  });

  it('ends a choice where the prompt holds an EOS token, as a model emitting it would', async () => {
    const { result, tokens } = await echo(
      scheduler(),
      [3, 4, VOCAB - 1, 5],
      params(10),
    );
    expect(tokens).toEqual([[3, 4, VOCAB - 1]]);
    expect(result.choices[0]).toMatchObject({
      finishReason: 'stop',
      completionTokens: 3,
    });
  });
});
