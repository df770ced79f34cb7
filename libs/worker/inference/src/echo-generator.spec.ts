import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_FILES } from '@marquee/shared/model-format';
import { makeEcho } from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import { InferenceError } from './inference-error';
import { TextGenerator } from './text-generator';
import type { ChoiceDelta, GenerationParams } from './types';

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

describe('TextGenerator over an echo model', () => {
  let root: string;
  let dir: string;
  let generator: TextGenerator;
  let tokenizer: PromptTokenizer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-echo-'));
    dir = makeEcho({ out: join(root, 'echo'), context: 512 }).dir;
    generator = await TextGenerator.load(dir);
    tokenizer = await PromptTokenizer.load(dir);
  });

  afterAll(async () => {
    await generator?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const text = (value: string) =>
    generator.encode({ kind: 'text', text: value });
  /** The text of the echo of `ids`, `count` tokens long. */
  const echoText = (ids: number[], count: number) =>
    tokenizer.decode(
      Array.from({ length: count }, (_, i) => ids[i % ids.length]),
    );

  async function run(ids: number[], p: GenerationParams) {
    const deltas: ChoiceDelta[][] = [];
    const result = await generator.generate(ids, p, (d) => deltas.push(d));
    return { result, deltas };
  }

  it('loads from a folder without model.onnx, as the echo engine', () => {
    expect(existsSync(join(dir, MODEL_FILES.onnx))).toBe(false);
    expect(generator).toMatchObject({
      name: 'echo',
      engine: 'echo',
      contextLength: 512,
      vocabSize: 512,
      executionProvider: 'cpu',
    });
  });

  it('answers with the prompt’s text, cycling, up to max_tokens, and counts usage', async () => {
    const ids = text('A heist film set in Lisbon');
    const max = ids.length * 2 + 3;
    const { result, deltas } = await run(ids, params(max));
    expect(result).toEqual({
      promptTokens: ids.length,
      completionTokens: max,
      choices: [
        {
          index: 0,
          text: echoText(ids, max),
          finishReason: 'length',
          completionTokens: max,
        },
      ],
    });
    // One delta per step, one token each: what the gateway streams and bills.
    expect(deltas).toHaveLength(max);
    expect(deltas.flat().reduce((sum, d) => sum + d.tokens, 0)).toBe(max);
    expect(
      deltas
        .flat()
        .map((d) => d.text)
        .join(''),
    ).toBe(echoText(ids, max));
  });

  it('echoes a chat prompt whole, template included, special tokens skipped in the text', async () => {
    const ids = generator.encode({
      kind: 'chat',
      messages: [{ role: 'user', content: 'Pitch a thriller' }],
    });
    const { result } = await run(ids, params(ids.length));
    expect(result.choices[0]).toMatchObject({
      text: 'user\nPitch a thriller\nassistant\n',
      finishReason: 'length',
      completionTokens: ids.length,
    });
  });

  it('stops before a stop string, which is not part of the text', async () => {
    const ids = text('one two three four');
    const { result } = await run(ids, params(40, { stop: [' three'] }));
    expect(result.choices[0]).toMatchObject({
      text: 'one two',
      finishReason: 'stop',
    });
    expect(result.completionTokens).toBeLessThan(ids.length);
  });

  it('gives each of n seeded, sampled choices the same echo and bills them all', async () => {
    const ids = text('The studio opened the film with');
    const { result } = await run(
      ids,
      params(8, { n: 3, temperature: 1, topP: 0.95, seed: 7 }),
    );
    expect(result.choices.map((c) => c.text)).toEqual(
      Array(3).fill(echoText(ids, 8)),
    );
    expect(result.completionTokens).toBe(24);
  });

  it('reports log-probability 0 for every echoed token', async () => {
    const ids = text('Lights, camera');
    const { deltas } = await run(ids, params(4, { logprobs: 2 }));
    const logprobs = deltas.flatMap((d) => d.flatMap((c) => c.logprobs ?? []));
    expect(logprobs).toHaveLength(4);
    for (const entry of logprobs) {
      expect(entry.logprob).toBe(0);
      expect(entry.topLogprobs[0].logprob).toBe(0);
      expect(Number.isFinite(entry.topLogprobs[1].logprob)).toBe(true);
    }
  });

  it('ends with cancelled when aborted, its partial result holding what was streamed', async () => {
    const ids = text('Once upon a time');
    const controller = new AbortController();
    let streamed = 0;
    const error = await generator
      .generate(
        ids,
        params(400),
        (d) => {
          streamed += d[0].tokens;
          if (streamed === 5) controller.abort();
        },
        controller.signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    expect((error as InferenceError).code).toBe('cancelled');
    expect((error as InferenceError).partial).toMatchObject({
      promptTokens: ids.length,
      completionTokens: 5,
      choices: [{ text: echoText(ids, 5), completionTokens: 5 }],
    });
  });

  it('refuses a prompt plus max_tokens beyond its context like any model', async () => {
    await expect(run(text('Hello'), params(600))).rejects.toMatchObject({
      code: 'context_length_exceeded',
      param: 'max_tokens',
    });
  });
});
