import { openai, usageRows, waitForUsageRow } from './support/clients';
import { e2eStack } from './support/stack';

const client = openai();
const { model } = e2eStack();

describe('usage ledger', () => {
  it('records one row per completion with the tokens the client was told', async () => {
    const { data, response } = await client.completions
      .create({ model, prompt: 'Once upon a time', max_tokens: 9, seed: 5 })
      .withResponse();
    const requestId = response.headers.get('x-request-id') ?? '';

    const row = await waitForUsageRow(requestId);

    expect(await usageRows(requestId)).toHaveLength(1);
    expect(row).toMatchObject({
      endpoint: 'completions',
      prompt_tokens: data.usage?.prompt_tokens,
      completion_tokens: data.usage?.completion_tokens,
      finish_reason: 'length',
    });
  });

  it('records a streamed chat with the usage of its final chunk', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({
        model,
        messages: [{ role: 'user', content: 'Pitch a thriller' }],
        max_tokens: 6,
        seed: 8,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let usage;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    const requestId = response.headers.get('x-request-id') ?? '';

    const row = await waitForUsageRow(requestId);

    expect(row).toMatchObject({
      endpoint: 'chat.completions',
      prompt_tokens: usage?.prompt_tokens,
      completion_tokens: 6,
      finish_reason: 'length',
    });
  });

  it('bills a stream the client abandons as cancelled, for the tokens generated so far', async () => {
    const maxTokens = 240;
    const { data: stream, response } = await client.completions
      .create({
        model,
        prompt: 'Once',
        max_tokens: maxTokens,
        temperature: 1,
        seed: 5,
        stream: true,
      })
      .withResponse();
    const requestId = response.headers.get('x-request-id') ?? '';

    const chunks = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 2; i++) expect((await chunks.next()).done).toBe(false);
    stream.controller.abort();

    const row = await waitForUsageRow(requestId);
    expect(row.finish_reason).toBe('cancelled');
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.completion_tokens).toBeLessThan(maxTokens);
  });
});
