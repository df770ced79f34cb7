import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  makeCausalLm,
  readGpt2Weights,
  referenceForward,
  type MadeModel,
} from '@marquee/shared/model-maker';
import { InferenceError } from './inference-error';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import { Sampler } from './sampler';
import { TextGenerator } from './text-generator';
import type { ChoiceDelta, GenerationParams } from './types';

const greedy = (maxTokens: number, stop: string[] = []): GenerationParams => ({
  maxTokens,
  n: 1,
  temperature: 0,
  topP: 1,
  stop,
});
const sampled = (seed: number | undefined, n = 1): GenerationParams => ({
  maxTokens: 16,
  n,
  temperature: 1,
  topP: 0.95,
  seed,
  stop: [],
});

describe('TextGenerator', () => {
  let root: string;
  let made: MadeModel;
  let generator: TextGenerator;
  let tokenizer: PromptTokenizer;
  let prompt: number[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mq-generator-'));
    made = makeCausalLm({
      out: join(root, 'model'),
      name: 'tiny',
      layers: 2,
      hidden: 64,
      heads: 4,
      vocab: 512,
      context: 64,
      seed: 3,
    });
    generator = await TextGenerator.load(made.dir, { intraOpThreads: 1 });
    tokenizer = await PromptTokenizer.load(made.dir);
    prompt = generator.encode({
      kind: 'text',
      text: 'The studio opened the film with',
    });
  });

  afterAll(async () => {
    await generator?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(params: GenerationParams) {
    const deltas: ChoiceDelta[][] = [];
    const result = await generator.generate(prompt, params, (d) =>
      deltas.push(d),
    );
    return { result, deltas };
  }

  it('reads its name and context length from the manifest', () => {
    expect(generator.name).toBe('tiny');
    expect(generator.contextLength).toBe(64);
    expect(generator.executionProvider).toBe('cpu');
  });

  it('generates greedily the same tokens as argmax decoding with the reference forward pass', async () => {
    const weights = readGpt2Weights(made.dir);
    const eos = new Set([made.tokenIds.endOfText, made.tokenIds.imEnd]);
    const ids = [...prompt];
    const expected: number[] = [];
    while (expected.length < 12) {
      const ref = referenceForward(
        weights,
        [ids],
        [ids.map(() => 1)],
        [ids.map((_, i) => i)],
      );
      const token = Sampler.argmax(ref.logits.subarray((ids.length - 1) * 512));
      expected.push(token);
      ids.push(token);
      if (eos.has(token)) break;
    }
    const { result } = await run(greedy(12));
    expect(result.choices[0].completionTokens).toBe(expected.length);
    expect(result.choices[0].text).toBe(
      tokenizer.decode(expected.filter((t) => !eos.has(t))),
    );
  });

  it('streams deltas whose text and token counts add up to the result', async () => {
    const { result, deltas } = await run(sampled(9, 3));
    for (const choice of result.choices) {
      const own = deltas.flat().filter((d) => d.index === choice.index);
      expect(own.map((d) => d.text).join('')).toBe(choice.text);
      expect(own.reduce((sum, d) => sum + d.tokens, 0)).toBe(
        choice.completionTokens,
      );
    }
    expect(result.completionTokens).toBe(
      result.choices.reduce((sum, c) => sum + c.completionTokens, 0),
    );
    expect(result.promptTokens).toBe(prompt.length);
  });

  it('gives the same text for the same seed and different text for another seed', async () => {
    const a = await run(sampled(1234));
    const b = await run(sampled(1234));
    const c = await run(sampled(4321));
    expect(b.result.choices[0].text).toBe(a.result.choices[0].text);
    expect(c.result.choices[0].text).not.toBe(a.result.choices[0].text);
  });

  it('gives n seeded choices that differ from each other and are each reproducible', async () => {
    const first = await run(sampled(77, 2));
    const again = await run(sampled(77, 2));
    expect(first.result.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(first.result.choices[0].text).not.toBe(first.result.choices[1].text);
    expect(again.result.choices).toEqual(first.result.choices);
  });

  it('stops right before a stop string that spans tokens and counts the token that completed it', async () => {
    const free = await run(greedy(16));
    expect(free.result.choices[0].finishReason).toBe('length');
    const full = free.result.choices[0].text;
    // Text length after each token; a step with new text ends on a token boundary.
    const lengths: number[] = [];
    for (const step of free.deltas)
      lengths.push((lengths.at(-1) ?? 0) + step[0].text.length);
    const boundary = lengths.find((b, k) => {
      const stop = full.slice(b - 2, b + 2);
      return (
        b >= 2 &&
        b + 2 <= full.length &&
        lengths[k + 1] > b &&
        !stop.includes('\uFFFD') &&
        full.indexOf(stop) === b - 2
      );
    });
    if (boundary === undefined)
      throw new Error(`no token boundary to cut at in ${JSON.stringify(full)}`);
    const stop = full.slice(boundary - 2, boundary + 2);
    const tokensToComplete =
      lengths.findIndex((length) => length >= boundary + 2) + 1;

    const { result, deltas } = await run(greedy(16, [stop]));
    const choice = result.choices[0];
    expect(choice.text).toBe(full.slice(0, boundary - 2));
    expect(choice.finishReason).toBe('stop');
    expect(
      deltas
        .flat()
        .map((d) => d.text)
        .join(''),
    ).toBe(choice.text);
    expect(choice.completionTokens).toBe(tokensToComplete);
    expect(result.completionTokens).toBe(tokensToComplete);
  });

  it('reports a logprob per token whose bytes add up to the text, greedy picks being the top alternative', async () => {
    const { result, deltas } = await run({ ...greedy(10), logprobs: 3 });
    const logprobs = deltas.flat().flatMap((d) => d.logprobs ?? []);
    expect(logprobs.length).toBe(
      result.choices[0].completionTokens -
        (result.choices[0].finishReason === 'stop' ? 1 : 0),
    );
    expect(Buffer.from(logprobs.flatMap((l) => l.bytes)).toString('utf8')).toBe(
      result.choices[0].text,
    );
    for (const l of logprobs) {
      expect(l.topLogprobs).toHaveLength(3);
      expect(l.topLogprobs[0]).toEqual({
        token: l.token,
        bytes: l.bytes,
        logprob: l.logprob,
      });
      expect(l.logprob).toBeLessThanOrEqual(0);
    }
  });

  it('finishes with length after exactly maxTokens tokens', async () => {
    const { result } = await run(greedy(5));
    expect(result.choices[0]).toMatchObject({
      finishReason: 'length',
      completionTokens: 5,
    });
    expect(result.completionTokens).toBe(5);
  });

  it('rejects a request whose prompt plus max_tokens exceeds the context length', async () => {
    const error = await generator
      .generate(prompt, greedy(64 - prompt.length + 1), () => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toMatchObject({
      code: 'context_length_exceeded',
      param: 'max_tokens',
    });
  });

  it('rejects empty prompts and empty message lists', async () => {
    await expect(
      generator.generate([], greedy(4), () => undefined),
    ).rejects.toMatchObject({ code: 'invalid_prompt', param: 'prompt' });
    expect(() => generator.encode({ kind: 'text', text: '' })).toThrow(
      expect.objectContaining({ code: 'invalid_prompt', param: 'prompt' }),
    );
    expect(() => generator.encode({ kind: 'chat', messages: [] })).toThrow(
      expect.objectContaining({ code: 'invalid_prompt', param: 'messages' }),
    );
  });

  it('stops when cancelled and reports the tokens generated before the cancel', async () => {
    const controller = new AbortController();
    let streamed = 0;
    const error = await generator
      .generate(
        prompt,
        { ...sampled(5, 2), maxTokens: 40 },
        (deltas) => {
          streamed += deltas.reduce((sum, d) => sum + d.tokens, 0);
          if (streamed >= 6) controller.abort();
        },
        controller.signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    const cancelled = error as InferenceError;
    expect(cancelled.code).toBe('cancelled');
    expect(cancelled.partial?.completionTokens).toBe(streamed);
    expect(cancelled.partial?.promptTokens).toBe(prompt.length);
  });

  it('renders the chat template and encodes its special tokens as single ids', () => {
    const messages = [{ role: 'user' as const, content: 'Hello there' }];
    expect(tokenizer.renderChat({ kind: 'chat', messages })).toBe(
      '<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n',
    );
    const ids = generator.encode({ kind: 'chat', messages });
    const { imStart, imEnd } = made.tokenIds;
    expect(ids[0]).toBe(imStart);
    expect(ids.filter((id) => id === imStart)).toHaveLength(2);
    expect(ids.filter((id) => id === imEnd)).toHaveLength(1);
    expect(tokenizer.decode(ids)).toBe('user\nHello there\nassistant\n');
  });
});
