import { openai } from './support/clients';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();
/** With the e2e model (seed 42), greedy decoding of this prompt gives varied, valid text. */
const PROMPT = 'Pitch a thriller about';

describe('POST /v1/completions', () => {
  it('returns a text_completion with choices, consistent usage and an x-request-id header', async () => {
    const { data, response } = await client.completions
      .create({ model, prompt: PROMPT, max_tokens: 8, temperature: 0 })
      .withResponse();

    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_[0-9a-f]{32}$/);
    expect(data.id).toBe(`cmpl-${requestId?.replace(/^req_/, '')}`);
    expect(data.object).toBe('text_completion');
    expect(data.model).toBe(model);
    expect(typeof data.created).toBe('number');
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'length',
    });
    expect(data.choices[0].text.length).toBeGreaterThan(0);
    const usage = data.usage;
    expect(usage?.completion_tokens).toBe(8);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe(
      (usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0),
    );
  });

  it('streams the same text as the whole response, in chunks sharing one id and created', async () => {
    const request = {
      model,
      prompt: PROMPT,
      max_tokens: 40,
      temperature: 0,
      seed: 7,
    };
    const whole = await client.completions.create(request);
    const stream = await client.completions.create({
      ...request,
      stream: true,
    });

    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const textChunks = chunks.filter((c) => c.choices[0]?.text);
    expect(textChunks.length).toBeGreaterThan(1);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(
      whole.choices[0].text,
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('returns n choices indexed from 0 and bills every generated token', async () => {
    const response = await client.completions.create({
      model,
      prompt: PROMPT,
      n: 2,
      max_tokens: 6,
      temperature: 1,
      seed: 11,
    });

    expect(response.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(response.choices.every((c) => c.finish_reason === 'length')).toBe(
      true,
    );
    expect(response.usage?.completion_tokens).toBe(2 * 6);
  });

  it('answers a prompt array with one choice per prompt', async () => {
    const response = await client.completions.create({
      model,
      prompt: ['Once upon a time', PROMPT],
      max_tokens: 4,
      temperature: 0,
    });

    expect(response.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(response.usage?.completion_tokens).toBe(2 * 4);
  });

  it('ends the text before a stop sequence, with finish_reason stop', async () => {
    const request = { model, prompt: PROMPT, max_tokens: 30, temperature: 0 };
    const free = (await client.completions.create(request)).choices[0].text;
    const middle = Math.floor(free.length / 2);
    const stop = free.slice(middle, middle + 3);
    const before = free.slice(0, free.indexOf(stop));
    expect(stop).toHaveLength(3);
    expect(before.length).toBeGreaterThan(0);

    const stopped = await client.completions.create({ ...request, stop });

    expect(stopped.choices[0].text).toBe(before);
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.usage?.completion_tokens).toBeLessThan(30);
  });

  it('gives identical text for the same seed at temperature 1', async () => {
    const request = {
      model,
      prompt: 'Once upon a time',
      max_tokens: 24,
      temperature: 1,
      seed: 1234,
    };
    const first = await client.completions.create(request);
    const second = await client.completions.create(request);
    const otherSeed = await client.completions.create({
      ...request,
      seed: 4321,
    });

    expect(second.choices[0].text).toBe(first.choices[0].text);
    expect(otherSeed.choices[0].text).not.toBe(first.choices[0].text);
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const response = await client.completions.create({
      model,
      prompt: PROMPT,
      max_tokens: 5,
      temperature: 1,
      seed: 3,
    });

    expect(response.choices[0].finish_reason).toBe('length');
    expect(response.usage?.completion_tokens).toBe(5);
  });
});
