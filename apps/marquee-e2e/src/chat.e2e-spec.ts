import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { openai } from './support/clients';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();

const request: ChatCompletionCreateParamsNonStreaming = {
  model,
  messages: [
    { role: 'system', content: 'You pitch films.' },
    { role: 'user', content: 'Pitch a thriller' },
  ],
  max_tokens: 12,
  temperature: 1,
  seed: 21,
};

describe('POST /v1/chat/completions', () => {
  it('returns a chat.completion with an assistant message and usage', async () => {
    const response = await client.chat.completions.create(request);

    expect(response.object).toBe('chat.completion');
    expect(response.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(response.model).toBe(model);
    expect(response.choices).toHaveLength(1);
    expect(response.choices[0].index).toBe(0);
    expect(response.choices[0].message.role).toBe('assistant');
    expect(typeof response.choices[0].message.content).toBe('string');
    expect(response.choices[0].finish_reason).toBe('length');
    expect(response.usage?.completion_tokens).toBe(12);
    expect(response.usage?.total_tokens).toBe(
      (response.usage?.prompt_tokens ?? 0) + 12,
    );
  });

  it('streams the same message as the whole response, opening with the assistant role', async () => {
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
    });

    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(
      true,
    );
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      whole.choices[0].message.content,
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    // Without stream_options.include_usage there is no usage anywhere.
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
  });

  it('with include_usage, sends usage: null until a last choiceless chunk carrying the same usage as the whole response', async () => {
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });

    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual(whole.usage);
  });

  it('returns n choices indexed 0 and 1, billing max_tokens for each', async () => {
    const response = await client.chat.completions.create({
      ...request,
      n: 2,
      max_tokens: 7,
    });

    expect(response.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(response.choices.every((c) => c.finish_reason === 'length')).toBe(
      true,
    );
    expect(response.usage?.completion_tokens).toBe(14);
  });
});
