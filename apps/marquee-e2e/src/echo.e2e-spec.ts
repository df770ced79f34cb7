import { join } from 'node:path';
import { makeEcho } from '@marquee/shared/model-maker';
import { PromptTokenizer } from '@marquee/shared/tokenization';
import { Client } from 'pg';
import { openai, waitForUsageRow } from './support/clients';
import { serveModel } from './support/served-model';
import { e2eStack } from './support/stack';

const client = openai();
const { model: baseModel, modelsDir, databaseUrl } = e2eStack();
// Redis is shared with other runs: a name unique to this run.
const echo = `${baseModel}-echo`;
const dir = join(modelsDir, echo);
/** Micro-units per token: 1 per prompt token, 2 per completion token. */
const PRICES = {
  input_price_per_mtok_micros: 1_000_000,
  output_price_per_mtok_micros: 2_000_000,
};

let tokenizer: PromptTokenizer;

/** The text of the echo of `ids`, `count` tokens long: token `i` is `ids[i mod length]`. */
const echoText = (ids: number[], count: number) =>
  tokenizer.decode(
    Array.from({ length: count }, (_, i) => ids[i % ids.length]),
  );

async function billedCost(requestId: string): Promise<bigint> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ cost: string }>(
      'SELECT cost_micros::text AS cost FROM usage_records WHERE request_id = $1',
      [requestId],
    );
    return BigInt(rows[0]?.cost ?? -1);
  } finally {
    await db.end();
  }
}

let unserve: (() => Promise<void>) | undefined;

beforeAll(async () => {
  makeEcho({ out: dir, name: echo, context: 1024 });
  tokenizer = await PromptTokenizer.load(dir);
  ({ unserve } = await serveModel({
    name: echo,
    artifact_path: dir,
    context_length: 1024,
    ...PRICES,
  }));
});

afterAll(async () => {
  await unserve?.();
});

describe('an echo model registered by an admin', () => {
  it('answers a completion with the prompt’s tokens, cycling, and bills them in usage_records', async () => {
    const prompt = 'A heist film set in Lisbon';
    const ids = tokenizer.encode({ kind: 'text', text: prompt });
    const maxTokens = ids.length * 2 + 3;

    const { data, response } = await client.completions
      .create({ model: echo, prompt, max_tokens: maxTokens })
      .withResponse();

    expect(data.model).toBe(echo);
    expect(data.choices[0]).toMatchObject({
      text: echoText(ids, maxTokens),
      finish_reason: 'length',
    });
    expect(data.choices[0]?.text.startsWith(prompt)).toBe(true);
    expect(data.usage).toMatchObject({
      prompt_tokens: ids.length,
      completion_tokens: maxTokens,
    });
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(await waitForUsageRow(requestId)).toMatchObject({
      endpoint: 'completions',
      prompt_tokens: ids.length,
      completion_tokens: maxTokens,
      finish_reason: 'length',
    });
    expect(await billedCost(requestId)).toBe(
      BigInt(ids.length + 2 * maxTokens),
    );
  });

  it('streams a chat completion that echoes the rendered conversation, with usage billed', async () => {
    const messages = [{ role: 'user' as const, content: 'Pitch a thriller' }];
    const ids = tokenizer.encode({ kind: 'chat', messages });

    const { data: stream, response } = await client.chat.completions
      .create({
        model: echo,
        messages,
        max_tokens: ids.length,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }

    expect(text).toBe('user\nPitch a thriller\nassistant\n');
    expect(text).toBe(echoText(ids, ids.length));
    expect(usage).toMatchObject({
      prompt_tokens: ids.length,
      completion_tokens: ids.length,
    });
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(await waitForUsageRow(requestId)).toMatchObject({
      endpoint: 'chat.completions',
      prompt_tokens: ids.length,
      completion_tokens: ids.length,
    });
  });

  it('honours n and stop like any model', async () => {
    const completion = await client.completions.create({
      model: echo,
      prompt: 'one two three four',
      max_tokens: 20,
      n: 2,
      temperature: 1,
      seed: 3,
      stop: [' three'],
    });

    expect(
      completion.choices.map((c) => [c.index, c.text, c.finish_reason]),
    ).toEqual([
      [0, 'one two', 'stop'],
      [1, 'one two', 'stop'],
    ]);
  });
});
