import OpenAI from 'openai';
import { openai } from './support/clients';
import { rejectionOf } from './support/errors';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();
const messages = [{ role: 'user' as const, content: 'Pitch a heist movie' }];

describe('logprobs and sampling extras', () => {
  it('returns chat logprobs with top_logprobs whose tokens spell the content', async () => {
    const response = await client.chat.completions.create({
      model,
      messages,
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
      logit_bias: { '511': -100, '510': -100 },
    });
    const choice = response.choices[0];
    const content = choice.logprobs?.content ?? [];

    expect(content.length).toBeGreaterThan(0);
    expect(
      Buffer.from(content.flatMap((c) => c.bytes ?? [])).toString('utf8'),
    ).toBe(choice.message.content);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0].logprob).toBe(entry.logprob);
    }
  });

  it('streams chat logprobs chunk by chunk', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages,
      max_tokens: 6,
      temperature: 0,
      logprobs: true,
      stream: true,
    });
    let text = '';
    let tokens = '';
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      tokens += (choice?.logprobs?.content ?? []).map((c) => c.token).join('');
    }
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.replace(/\uFFFD/g, '')).toBe(text.replace(/\uFFFD/g, ''));
  });

  it('returns completion logprobs as parallel arrays with text offsets', async () => {
    const response = await client.completions.create({
      model,
      prompt: 'A heist film set in',
      max_tokens: 5,
      temperature: 0,
      logprobs: 3,
      logit_bias: { '511': -100, '510': -100 },
    });
    const logprobs = response.choices[0].logprobs;

    expect(logprobs?.tokens).toHaveLength(5);
    expect(logprobs?.token_logprobs).toHaveLength(5);
    expect(logprobs?.text_offset?.[0]).toBe(0);
    expect(
      Object.keys(logprobs?.top_logprobs?.[0] ?? {}).length,
    ).toBeLessThanOrEqual(3);
  });

  it('answers 400 naming top_logprobs when logprobs is not true', async () => {
    const error = await rejectionOf(
      client.chat.completions.create({
        model,
        messages,
        max_tokens: 2,
        top_logprobs: 2,
      }),
    );

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'top_logprobs' });
  });
});
